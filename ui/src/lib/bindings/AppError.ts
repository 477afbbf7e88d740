// Hand-written stand-in for the ts-rs output; the generated file replaces it.
import type { ErrorKind } from "./ErrorKind";

export type AppError = { kind: ErrorKind; message: string; field?: string };
