// A zone with daylight saving and a non-zero offset, so a wrong conversion shows.
process.env.TZ = "America/Chicago";

import { describe, expect, it } from "vitest";
import { isoToLocalInput, localDateToIso, localInputToIso } from "../../src/lib/dates";

describe("date conversion", () => {
  it("shows a UTC instant as local wall-clock time", () => {
    expect(isoToLocalInput("2026-11-28T17:42:03Z")).toBe("2026-11-28T11:42"); // CST = UTC-6
    expect(isoToLocalInput("2026-07-01T03:15:00.000Z")).toBe("2026-06-30T22:15"); // CDT = UTC-5, day before
  });

  it("turns local wall-clock time back into UTC", () => {
    expect(localInputToIso("2026-11-28T11:42")).toBe("2026-11-28T17:42:00.000Z");
    expect(localInputToIso("2026-06-30T22:15")).toBe("2026-07-01T03:15:00.000Z");
  });

  it("round-trips to the minute", () => {
    const iso = "2026-03-08T09:30:00.000Z";
    expect(localInputToIso(isoToLocalInput(iso))).toBe(iso);
  });

  it("rejects empty and malformed input", () => {
    expect(localInputToIso("")).toBeNull();
    expect(localInputToIso("28/11/2026 11:42")).toBeNull();
    expect(isoToLocalInput(null)).toBe("");
    expect(isoToLocalInput("not a date")).toBe("");
  });

  it("turns a local day into the instants bounding it", () => {
    expect(localDateToIso("2026-11-28")).toBe("2026-11-28T06:00:00.000Z");
    expect(localDateToIso("2026-11-28", true)).toBe("2026-11-29T06:00:00.000Z");
    expect(localDateToIso("")).toBeNull();
  });
});
