import { describe, expect, it } from "vitest";
import { normalizeError } from "../../src/lib/backend/errors";

describe("normalizeError", () => {
  it("keeps a well-formed AppError, with its field", () => {
    expect(normalizeError({ kind: "validation", message: "Choose a call type.", field: "call.call_type" })).toEqual({
      kind: "validation",
      message: "Choose a call type.",
      field: "call.call_type",
    });
  });

  it("keeps an AppError without field and does not invent one", () => {
    const error = normalizeError({ kind: "wrong_passphrase", message: "wrong passphrase or PIN" });
    expect(error).toEqual({ kind: "wrong_passphrase", message: "wrong passphrase or PIN" });
    expect("field" in error).toBe(false);
  });

  it("turns an unknown kind into internal but keeps the message", () => {
    expect(normalizeError({ kind: "exploded", message: "boom" })).toEqual({ kind: "internal", message: "boom" });
  });

  it("turns a thrown Error into internal", () => {
    expect(normalizeError(new TypeError("x is undefined"))).toEqual({ kind: "internal", message: "x is undefined" });
  });

  it("turns a plain string rejection (Tauri's command-not-found) into internal", () => {
    expect(normalizeError("command save_draft not found")).toEqual({ kind: "internal", message: "command save_draft not found" });
  });

  it.each([undefined, null, 42, {}, { kind: "validation" }, ""])("gives a readable internal error for %j", (raw) => {
    const error = normalizeError(raw);
    expect(error.kind).toBe("internal");
    expect(error.message.length).toBeGreaterThan(10);
  });

  it("drops a field that is not a string", () => {
    expect(normalizeError({ kind: "validation", message: "bad", field: 3 })).toEqual({ kind: "validation", message: "bad" });
  });
});
