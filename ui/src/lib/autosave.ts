import type { AppError } from "./bindings/AppError";
import { normalizeError } from "./backend/errors";

export type SaveState =
  | { kind: "idle" }
  | { kind: "saving" }
  | { kind: "saved"; at: Date }
  | { kind: "error"; error: AppError };

export interface AutosaveOptions<T, R> {
  save: (value: T) => Promise<R>;
  onState: (state: SaveState) => void;
  onSaved?: (result: R, value: T) => void;
  /** Quiet time after the last change before saving. */
  delayMs?: number;
  /** After a failed save, try again this much later (the draft stays in memory meanwhile). */
  retryMs?: number;
  now?: () => Date;
}

/**
 * Saves the newest value once changes pause for `delayMs`. Saves never overlap; a value that
 * changes during a save is saved right after. A failed value stays pending until a save works.
 */
export class Autosaver<T, R = unknown> {
  private pending: { value: T } | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private inFlight: Promise<boolean> | null = null;
  private stopped = false;
  private readonly delayMs: number;
  private readonly retryMs: number;

  constructor(private readonly options: AutosaveOptions<T, R>) {
    this.delayMs = options.delayMs ?? 400;
    this.retryMs = options.retryMs ?? 5000;
  }

  get hasUnsaved(): boolean {
    return this.pending !== null || this.inFlight !== null;
  }

  /** Records a change; the save happens once changes pause. */
  change(value: T): void {
    if (this.stopped) return;
    this.pending = { value };
    this.arm(this.delayMs);
    this.options.onState({ kind: "saving" });
  }

  /** Saves whatever is pending now. Resolves true when nothing unsaved remains. */
  async flush(): Promise<boolean> {
    this.disarm();
    for (;;) {
      while (this.inFlight) await this.inFlight;
      if (!this.pending) return true;
      const { value } = this.pending;
      this.pending = null;
      const run = this.run(value);
      this.inFlight = run;
      let ok: boolean;
      try {
        ok = await run;
      } finally {
        if (this.inFlight === run) this.inFlight = null;
      }
      if (!ok) return false;
    }
  }

  /** Stops saving (after submit, or when the form closes having flushed). */
  stop(): void {
    this.stopped = true;
    this.disarm();
    this.pending = null;
  }

  private async run(value: T): Promise<boolean> {
    this.options.onState({ kind: "saving" });
    try {
      const result = await this.options.save(value);
      this.options.onSaved?.(result, value);
      // A change made meanwhile is saved by the caller's loop; only then is everything saved.
      if (this.pending) return true;
      this.options.onState({ kind: "saved", at: (this.options.now ?? (() => new Date()))() });
      return true;
    } catch (error) {
      // Keep the failed value unless something newer replaced it, and try again later.
      if (!this.pending) this.pending = { value };
      this.options.onState({ kind: "error", error: normalizeError(error) });
      if (!this.stopped) this.arm(this.retryMs);
      return false;
    }
  }

  private arm(ms: number): void {
    this.disarm();
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, ms);
  }

  private disarm(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}
