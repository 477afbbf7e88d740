import { afterEach, describe, expect, it, vi } from "vitest";
import { applyTheme, initialTheme } from "../../src/lib/theme";

function preferDark(dark: boolean) {
  vi.stubGlobal("matchMedia", (query: string) => ({ matches: dark && query.includes("dark"), media: query }));
}

describe("theme", () => {
  afterEach(() => {
    localStorage.clear();
    vi.unstubAllGlobals();
  });

  it("follows the system preference until the officer chooses", () => {
    preferDark(true);
    expect(initialTheme()).toBe("dark");
    preferDark(false);
    expect(initialTheme()).toBe("light");
  });

  it("remembers the officer's choice over the system preference", () => {
    preferDark(false);
    applyTheme("dark", true);
    expect(document.documentElement.dataset.theme).toBe("dark");
    expect(initialTheme()).toBe("dark");
  });

  it("does not remember a theme applied from the system preference", () => {
    preferDark(true);
    applyTheme("dark", false);
    preferDark(false);
    expect(initialTheme()).toBe("light");
  });
});
