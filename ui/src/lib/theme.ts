export type Theme = "light" | "dark";

const KEY = "waypoint.theme";

/** The remembered choice, else the system's preference. */
export function initialTheme(): Theme {
  try {
    const saved = localStorage.getItem(KEY);
    if (saved === "light" || saved === "dark") return saved;
  } catch {
    // Storage can be unavailable (private mode): fall back to the system preference.
  }
  return typeof matchMedia === "function" && matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

export function applyTheme(theme: Theme, remember: boolean): void {
  document.documentElement.dataset.theme = theme;
  if (!remember) return;
  try {
    localStorage.setItem(KEY, theme);
  } catch {
    // Not remembered; the toggle still works for this session.
  }
}

export function hasRememberedTheme(): boolean {
  try {
    return localStorage.getItem(KEY) !== null;
  } catch {
    return false;
  }
}

/** Calls back when the system switches between light and dark. */
export function onSystemThemeChange(callback: (theme: Theme) => void): () => void {
  if (typeof matchMedia !== "function") return () => {};
  const query = matchMedia("(prefers-color-scheme: dark)");
  const listener = (event: MediaQueryListEvent) => callback(event.matches ? "dark" : "light");
  query.addEventListener?.("change", listener);
  return () => query.removeEventListener?.("change", listener);
}
