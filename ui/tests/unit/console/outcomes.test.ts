import { describe, expect, it } from "vitest";

import { changeText, figureText, shade } from "../../../src/console/outcomes/format";

describe("the outcome page's number formats", () => {
  it("shows a value in its unit, and a dash where the server sent none", () => {
    expect(figureText(12, "count")).toBe("12");
    expect(figureText(57.14, "percent")).toBe("57.14 %");
    expect(figureText(30, "minutes")).toBe("30 min");
    expect(figureText(null, "percent")).toBe("—");
  });

  it("says the change from the previous period with its sign", () => {
    expect(changeText(7, 4, "count")).toBe("+3");
    expect(changeText(40, 55.5, "percent")).toBe("−15.5 points");
    expect(changeText(3, 3, "minutes")).toBe("no change");
    expect(changeText(3, null, "count")).toBe("—");
  });

  it("shades a cell beside the largest", () => {
    expect(shade(5, 10)).toBe(0.5);
    expect(shade(0, 0)).toBe(0);
  });
});
