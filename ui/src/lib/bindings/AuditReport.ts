// Hand-written stand-in for the ts-rs output; the generated file replaces it.
// crates/core/src/audit.rs is not in the skeleton yet: the UI only passes this value through.
export type AuditReport = Record<string, unknown>;
