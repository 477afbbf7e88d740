// Generated from Rust by crates/protocol/src/bindings.rs: do not edit.

export const CSRF_HEADER = "x-csrf-token";
export const ERROR_CSRF = "csrf";
export const ERROR_MFA_REQUIRED = "mfa_required";
export const ERROR_RATE_LIMITED = "rate_limited";
export const ERROR_CODES_IN_USE = "codes_in_use";
export const ERROR_STALE_CONFIG = "stale_config";
