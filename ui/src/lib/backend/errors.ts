import type { AppError } from "../bindings/AppError";
import type { ErrorKind } from "../bindings/ErrorKind";
import { ERROR_KINDS } from "../bindings/constants";

function isKind(value: unknown): value is ErrorKind {
  return typeof value === "string" && (ERROR_KINDS as readonly string[]).includes(value);
}

/** Turns whatever a failed call rejected with into the one error shape the UI shows. */
export function normalizeError(error: unknown): AppError {
  if (error !== null && typeof error === "object") {
    const record = error as Record<string, unknown>;
    const message = typeof record.message === "string" && record.message.trim() !== "" ? record.message : null;
    if (isKind(record.kind) && message !== null) {
      const normalized: AppError = { kind: record.kind, message };
      if (typeof record.field === "string" && record.field !== "") normalized.field = record.field;
      return normalized;
    }
    if (message !== null) return { kind: "internal", message };
  }
  if (typeof error === "string" && error.trim() !== "") return { kind: "internal", message: error };
  return { kind: "internal", message: "Something went wrong. Your report is still open; try again." };
}

export function isAppError(value: unknown): value is AppError {
  if (value === null || typeof value !== "object") return false;
  const record = value as Record<string, unknown>;
  return isKind(record.kind) && typeof record.message === "string";
}
