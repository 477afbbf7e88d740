// The agency's auto-lock: after its delay without input the app saves the open report, locks,
// and after the unlock the officer is back in the same report with what was typed.
import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { describe, expect, it, vi } from "vitest";
import App from "../../src/App.svelte";
import { DEMO_CONFIG, MemoryBackend } from "../../src/lib/backend/memory";

const PIN = "123456";

describe("auto-lock", () => {
  it("saves the open draft, locks after the agency's delay, and reopens the draft after the unlock", async () => {
    const config = structuredClone(DEMO_CONFIG);
    config.device_policy.auto_lock_minutes = 2;
    const backend = new MemoryBackend({ initialized: { officerId: "B-7", passphrase: PIN }, config });
    await backend.unlock(PIN);
    render(App, { props: { backend } });
    await fireEvent.click(await screen.findByTestId("new-encounter"));
    const narrative = await screen.findByTestId("field-narrative");

    vi.useFakeTimers();
    await fireEvent.input(narrative, { target: { value: "Typed just before the officer walked away." } });
    // Typing is activity: a minute and a half later the app is still open.
    await vi.advanceTimersByTimeAsync(90_000);
    expect(screen.queryByTestId("passphrase")).toBeNull();
    // Two minutes after the last input it locks itself.
    await vi.advanceTimersByTimeAsync(31_000);
    vi.useRealTimers();
    expect(await screen.findByTestId("passphrase")).toBeInTheDocument();
    expect(backend.calls.some((c) => c.method === "lock")).toBe(true);
    const saves = backend.calls.filter((c) => c.method === "saveDraft");
    expect(saves.length).toBeGreaterThan(0);

    await fireEvent.input(screen.getByTestId("passphrase"), { target: { value: PIN } });
    await fireEvent.click(screen.getByTestId("unlock-submit"));
    await waitFor(() => expect(screen.getByTestId("field-narrative")).toHaveValue("Typed just before the officer walked away."));
  });
});
