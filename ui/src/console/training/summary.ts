// How the CIT training page lays out what the server sends (presentation only: the outcome figures
// are the server's, which measures each call against the officer's first initial course itself).
import type { Role } from "../bindings/Role";
import type { TrainingKind } from "../bindings/TrainingKind";
import type { TrainingRecord } from "../bindings/TrainingRecord";
import type { UserInfo } from "../bindings/UserInfo";

/** The roles whose users file reports, so can have CIT training (the officer picker lists them). */
export const TRAINABLE: Role[] = ["officer", "supervisor"];

export const KIND_LABELS: Record<TrainingKind, string> = { initial: "Initial course", refresher: "Refresher" };

/** What the course field suggests for each kind (the admin may type any name). */
export const COURSE_SUGGESTIONS: Record<TrainingKind, string> = {
  initial: "CIT 40-hour",
  refresher: "CIT refresher",
};

/** One row of the per-officer summary. */
export interface OfficerTraining {
  username: string;
  /** Null when the user is no longer listed (the records stay). */
  role: Role | null;
  officerId: string | null;
  /** The earliest initial course's day (`YYYY-MM-DD`), or null: no initial course. */
  trainedSince: string | null;
  refreshers: number;
  lastRefresher: string | null;
}

/** The users who can be given a course: officers and supervisors. */
export function trainableUsers(users: UserInfo[]): UserInfo[] {
  return users.filter((user) => TRAINABLE.includes(user.role));
}

/**
 * One row per officer or supervisor, and per other username that has records (by username): the
 * first initial course, how many refreshers, the last one. Days are `YYYY-MM-DD`, so they compare
 * as text.
 */
export function summarize(users: UserInfo[], records: TrainingRecord[]): OfficerTraining[] {
  const rows = new Map<string, OfficerTraining>();
  const row = (username: string): OfficerTraining => {
    let found = rows.get(username);
    if (!found) {
      const user = users.find((u) => u.username === username);
      found = { username, role: user?.role ?? null, officerId: user?.officer_id ?? null, trainedSince: null, refreshers: 0, lastRefresher: null };
      rows.set(username, found);
    }
    return found;
  };
  for (const user of trainableUsers(users)) row(user.username);
  for (const record of records) {
    const summary = row(record.username);
    if (record.kind === "initial") {
      if (summary.trainedSince === null || record.completed_on < summary.trainedSince) summary.trainedSince = record.completed_on;
    } else {
      summary.refreshers += 1;
      if (summary.lastRefresher === null || record.completed_on > summary.lastRefresher) summary.lastRefresher = record.completed_on;
    }
  }
  return [...rows.values()].sort((a, b) => a.username.localeCompare(b.username));
}
