import { tauriBackend } from "./tauri";
import type { Backend } from "./types";

export type { Backend } from "./types";
export { normalizeError, isAppError } from "./errors";

export function runningInTauri(): boolean {
  return typeof window !== "undefined" && "__TAURI_INTERNALS__" in window;
}

/**
 * The Tauri backend inside the app. Outside Tauri only `?demo` gets the in-memory fake (loaded
 * lazily so it never ships into the app's startup path); otherwise there is no backend.
 */
export async function chooseBackend(): Promise<Backend | null> {
  if (runningInTauri()) return tauriBackend();
  if (typeof window !== "undefined" && new URLSearchParams(window.location.search).has("demo")) {
    const { MemoryBackend } = await import("./memory");
    return new MemoryBackend({ seed: true });
  }
  return null;
}
