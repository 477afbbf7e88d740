import { beforeEach, describe, expect, it, vi } from "vitest";
import { Autosaver, type SaveState } from "../../src/lib/autosave";

describe("Autosaver", () => {
  let states: SaveState[];
  beforeEach(() => {
    vi.useFakeTimers();
    states = [];
  });

  it("saves once, with the newest value, when changes come within 400 ms", async () => {
    const save = vi.fn(async (value: string) => value);
    const saver = new Autosaver<string, string>({ save, onState: (s) => states.push(s) });
    saver.change("a");
    await vi.advanceTimersByTimeAsync(300);
    saver.change("ab");
    await vi.advanceTimersByTimeAsync(300);
    saver.change("abc");
    await vi.advanceTimersByTimeAsync(399);
    expect(save).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(save).toHaveBeenCalledTimes(1);
    expect(save).toHaveBeenCalledWith("abc");
    expect(states.at(-1)?.kind).toBe("saved");
    expect(saver.hasUnsaved).toBe(false);
  });

  it("saves separately when changes are more than 400 ms apart", async () => {
    const save = vi.fn(async (value: string) => value);
    const saver = new Autosaver<string, string>({ save, onState: () => {} });
    saver.change("a");
    await vi.advanceTimersByTimeAsync(450);
    saver.change("ab");
    await vi.advanceTimersByTimeAsync(450);
    expect(save.mock.calls).toEqual([["a"], ["ab"]]);
  });

  it("on failure keeps the value, reports the error, and saves it on the retry", async () => {
    let fail = true;
    const save = vi.fn(async (value: string) => {
      if (fail) throw { kind: "storage", message: "disk full" };
      return value;
    });
    const saver = new Autosaver<string, string>({ save, onState: (s) => states.push(s), retryMs: 5000 });
    saver.change("draft text");
    await vi.advanceTimersByTimeAsync(400);
    expect(states.at(-1)).toEqual({ kind: "error", error: { kind: "storage", message: "disk full" } });
    expect(saver.hasUnsaved).toBe(true);
    fail = false;
    await vi.advanceTimersByTimeAsync(5000);
    expect(save).toHaveBeenCalledTimes(2);
    expect(save).toHaveBeenLastCalledWith("draft text");
    expect(states.at(-1)?.kind).toBe("saved");
    expect(saver.hasUnsaved).toBe(false);
  });

  it("flush saves at once and never overlaps saves", async () => {
    let running = 0;
    let maxRunning = 0;
    const save = vi.fn(async (value: string) => {
      running += 1;
      maxRunning = Math.max(maxRunning, running);
      await new Promise((resolve) => setTimeout(resolve, 100));
      running -= 1;
      return value;
    });
    const saver = new Autosaver<string, string>({ save, onState: () => {} });
    saver.change("one");
    const first = saver.flush();
    saver.change("two"); // arrives while "one" is being saved
    const second = saver.flush();
    await vi.advanceTimersByTimeAsync(250);
    await expect(first).resolves.toBe(true);
    await expect(second).resolves.toBe(true);
    expect(save.mock.calls).toEqual([["one"], ["two"]]);
    expect(maxRunning).toBe(1);
  });

  it("flush resolves false while the save keeps failing", async () => {
    const saver = new Autosaver<string, string>({
      save: async () => Promise.reject(new Error("locked")),
      onState: (s) => states.push(s),
    });
    saver.change("x");
    await expect(saver.flush()).resolves.toBe(false);
    expect(states.at(-1)).toEqual({ kind: "error", error: { kind: "internal", message: "locked" } });
  });

  it("stop discards the timer", async () => {
    const save = vi.fn(async (value: string) => value);
    const saver = new Autosaver<string, string>({ save, onState: () => {} });
    saver.change("x");
    saver.stop();
    await vi.advanceTimersByTimeAsync(1000);
    expect(save).not.toHaveBeenCalled();
  });
});
