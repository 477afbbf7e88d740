// Generated from Rust by crates/core/src/bindings.rs: do not edit.
import type { ErrorKind } from "./ErrorKind";

/** Every kind of error a command can fail with. */
export const ERROR_KINDS: readonly ErrorKind[] = ["validation", "wrong_passphrase", "too_soon", "wiped", "already_running", "locked", "already_initialized", "not_found", "invalid_state", "config", "audit_tampered", "crypto", "storage", "io", "internal"];

/** The shortest passphrase or PIN the core accepts, in characters. */
export const MIN_PASSPHRASE_CHARS = 6;

/** The bounds of an agency's device policy (the core checks them). */
export const MAX_AUTO_LOCK_MINUTES = 30;
export const MIN_PASSPHRASE_LENGTH = 8;
export const MAX_SECRET_LENGTH = 64;
export const MIN_FAILED_UNLOCKS = 3;
export const MAX_FAILED_UNLOCKS = 20;
