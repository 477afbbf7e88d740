import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { describe, expect, it } from "vitest";
import { MemoryBackend } from "../../src/lib/backend/memory";
import type { SyncStatus } from "../../src/lib/bindings/SyncStatus";
import SyncScreen from "../../src/lib/sync/SyncScreen.svelte";
import { syncHeadline, syncLabel } from "../../src/lib/sync/words";

function status(overrides: Partial<SyncStatus> = {}): SyncStatus {
  return {
    enrolled: true,
    server_url: "https://records.example:8443",
    device_id: "d1",
    certificate_fingerprint: null,
    signed_in_as: null,
    needs_sign_in: false,
    role: null,
    session_expires_at: null,
    pending: 0,
    needs_attention: 0,
    last_synced_at: null,
    last_attempt_at: null,
    last_error: null,
    syncing: false,
    next_attempt_at: null,
    last_report: null,
    config_version: 1,
    ...overrides,
  };
}

describe("sync words", () => {
  it("labels each record state", () => {
    expect(syncLabel(null)).toBeNull();
    expect(syncLabel({ state: "pending", attempts: 2 })).toBe("pending sync");
    expect(syncLabel({ state: "synced", at: null, note: null })).toBe("synced");
    expect(syncLabel({ state: "needs_attention", reason: "bad" })).toBe("needs attention");
  });

  it("puts what matters most in the header line", () => {
    expect(syncHeadline(status({ enrolled: false })).text).toBe("Not connected");
    expect(syncHeadline(status({ pending: 3, last_error: "server unreachable" }))).toEqual({ text: "3 pending · offline", tone: "warn" });
    expect(syncHeadline(status({ pending: 3, needs_attention: 1 }))).toEqual({ text: "1 needs attention", tone: "warn" });
    expect(syncHeadline(status({ pending: 2, syncing: true })).text).toBe("Syncing 2…");
    expect(syncHeadline(status({ pending: 2, needs_sign_in: true }))).toEqual({ text: "Sign in to sync", tone: "warn" });
    const synced = syncHeadline(status({ last_synced_at: new Date().toISOString() }));
    expect(synced.tone).toBe("ok");
    expect(synced.text).toMatch(/^Synced \d/);
  });
});

describe("SyncScreen", () => {
  async function unlocked() {
    const backend = new MemoryBackend();
    await backend.setup("B-1", "123456");
    return backend;
  }

  it("shows the enrolment error beside its field and keeps what was typed", async () => {
    const backend = await unlocked();
    let latest: SyncStatus | null = await backend.syncStatus();
    render(SyncScreen, { props: { backend, status: latest, onstatus: (s: SyncStatus) => (latest = s) } });
    backend.failures.set("enrollDevice", { kind: "validation", field: "server_url", message: "The address must start with https://" });
    await fireEvent.input(screen.getByTestId("enroll-server-url"), { target: { value: "http://records.example" } });
    await fireEvent.input(screen.getByTestId("enroll-code"), { target: { value: "ABCD-1234" } });
    await fireEvent.click(screen.getByTestId("enroll-submit"));
    expect(await screen.findByTestId("field-error-server_url")).toHaveTextContent("https://");
    expect((screen.getByTestId("enroll-code") as HTMLInputElement).value).toBe("ABCD-1234");
    expect(latest?.enrolled).toBe(false);
  });

  it("enrols, signs in and syncs a submitted report", async () => {
    const backend = await unlocked();
    const draft = await backend.newEncounter();
    const config = await backend.agencyConfig();
    // Fill what the demo agency requires, then submit: the version waits in the outbox.
    const filled = structuredClone(draft) as unknown as Record<string, unknown>;
    for (const path of config.required_on_submit) {
      const parts = path.split(".");
      let target = filled as Record<string, unknown>;
      for (const part of parts.slice(0, -1)) target = target[part] as Record<string, unknown>;
      const key = parts[parts.length - 1];
      target[key] = Array.isArray(target[key]) ? ["x"] : "x";
    }
    await backend.submitEncounter(filled as unknown as typeof draft);
    expect((await backend.syncStatus()).pending).toBe(1);

    let latest: SyncStatus = await backend.syncStatus();
    const view = render(SyncScreen, { props: { backend, status: latest, onstatus: (s: SyncStatus) => (latest = s) } });
    await fireEvent.input(screen.getByTestId("enroll-server-url"), { target: { value: " https://records.example:8443 " } });
    await fireEvent.input(screen.getByTestId("enroll-code"), { target: { value: "ABCD-1234" } });
    await fireEvent.click(screen.getByTestId("enroll-submit"));
    await waitFor(() => expect(latest.enrolled).toBe(true));
    expect(latest.server_url).toBe("https://records.example:8443");
    await view.rerender({ backend, status: latest, onstatus: (s: SyncStatus) => (latest = s) });

    backend.failures.set("officerLogin", { kind: "validation", field: "username", message: "Enter your user name on the agency server." });
    await fireEvent.click(screen.getByTestId("login-submit"));
    expect(await screen.findByTestId("field-error-username")).toHaveTextContent("Enter your user name");
    backend.failures.delete("officerLogin");
    await fireEvent.input(screen.getByTestId("login-username"), { target: { value: "officer1" } });
    await fireEvent.input(screen.getByTestId("login-password"), { target: { value: "secret-password" } });
    await fireEvent.click(screen.getByTestId("login-submit"));
    await waitFor(() => expect(latest.signed_in_as).toBe("officer1"));

    await view.rerender({ backend, status: latest, onstatus: (s: SyncStatus) => (latest = s) });
    await fireEvent.click(screen.getByTestId("sync-now"));
    await waitFor(() => expect(latest.pending).toBe(0));
    expect(latest.last_synced_at).not.toBeNull();
    const [row] = await backend.listEncounters({ text: null, from: null, to: null, status: "submitted" });
    expect(row.sync?.state).toBe("synced");
  });
});
