import type { SyncState } from "../bindings/SyncState";
import type { SyncStatus } from "../bindings/SyncStatus";

/** The short label of a version's sync state, as the list and the detail show it. */
export function syncLabel(state: SyncState | null | undefined): string | null {
  if (!state) return null;
  switch (state.state) {
    case "pending":
      return "pending sync";
    case "synced":
      return "synced";
    case "needs_attention":
      return "needs attention";
  }
}

function clock(iso: string, now: Date): string {
  const at = new Date(iso);
  const sameDay = at.toDateString() === now.toDateString();
  const time = at.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  return sameDay ? time : `${at.toLocaleDateString()} ${time}`;
}

/** One line for the header: what the officer needs to know about sync at a glance. */
export function syncHeadline(status: SyncStatus | null, now: Date = new Date()): { text: string; tone: "ok" | "busy" | "warn" | "off" } {
  if (!status) return { text: "Sync…", tone: "off" };
  if (!status.enrolled) return { text: "Not connected", tone: "off" };
  if (status.needs_attention > 0) {
    return { text: `${status.needs_attention} need${status.needs_attention === 1 ? "s" : ""} attention`, tone: "warn" };
  }
  // No officer holds a credential on this device: reports wait for a sign-in (the feed still syncs).
  if (status.needs_sign_in && status.pending > 0) return { text: "Sign in to sync", tone: "warn" };
  if (status.syncing) return { text: status.pending > 0 ? `Syncing ${status.pending}…` : "Syncing…", tone: "busy" };
  if (status.pending > 0) {
    const waiting = status.last_error ? " · offline" : "";
    return { text: `${status.pending} pending${waiting}`, tone: status.last_error ? "warn" : "busy" };
  }
  if (status.last_error) return { text: "Server unreachable", tone: "warn" };
  if (status.last_synced_at) return { text: `Synced ${clock(status.last_synced_at, now)}`, tone: "ok" };
  return { text: "Not synced yet", tone: "off" };
}

export { clock as syncClock };
