// The CIT training page's words: labels and the course names it suggests. Who is trained since
// when is the server's (GET /v1/admin/training/summary), the rule its figures use.
import type { TrainingKind } from "../bindings/TrainingKind";

export const KIND_LABELS: Record<TrainingKind, string> = { initial: "Initial course", refresher: "Refresher" };

/** What the course field suggests for each kind (the admin may type any name). */
export const COURSE_SUGGESTIONS: Record<TrainingKind, string> = {
  initial: "CIT 40-hour",
  refresher: "CIT refresher",
};
