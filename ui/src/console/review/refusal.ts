// Where a refused decision is shown: beside the field it is about, or above the form. The server
// decides and words every refusal (its `kind` and `message`); this only places it.

export interface Failure {
  status: number;
  kind: string;
  message: string;
  field?: string | null;
}

export type RefusalPlace = "comment" | "reason" | "form";

export function placeOf(failure: Failure): RefusalPlace {
  if (failure.field === "comment" || failure.field === "reason") return failure.field;
  if (failure.kind === "invalid") return "comment"; // 422: a return without a comment
  if (failure.kind === "already_decided") return "reason"; // 409: a change needs a reason
  return "form"; // 403 own report, 409 superseded, 404, anything else
}

/** A heading for a refusal shown above the form. */
export function refusalTitle(failure: Failure): string {
  switch (failure.kind) {
    case "forbidden":
      return "Refused: you cannot decide on this report";
    case "superseded":
      return "Refused: a newer version is on the server";
    case "not_found":
      return "Refused: the server does not hold this version";
    case "csrf":
      return "Refused: the session's form token was not accepted (reload the page)";
    default:
      return `Refused (${failure.status})`;
  }
}
