// Hand-written stand-in for the ts-rs output; the generated file replaces it.
export type ErrorKind = "validation" | "wrong_passphrase" | "locked" | "already_initialized" | "not_found" | "invalid_state" | "config" | "audit_tampered" | "crypto" | "storage" | "io" | "internal";
