import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { describe, expect, it, vi } from "vitest";
import { MemoryBackend } from "../../src/lib/backend/memory";
import Gate from "../../src/lib/components/Gate.svelte";

describe("Gate", () => {
  it("shows a clear error on a wrong PIN and stays locked", async () => {
    const backend = new MemoryBackend({ initialized: { officerId: "B-1", passphrase: "123456" } });
    const onunlocked = vi.fn();
    render(Gate, { props: { backend, status: await backend.appStatus(), onunlocked } });
    expect(screen.queryByTestId("officer-id")).toBeNull();
    await fireEvent.input(screen.getByTestId("passphrase"), { target: { value: "999999" } });
    await fireEvent.click(screen.getByTestId("unlock-submit"));
    expect(await screen.findByTestId("unlock-error")).toHaveTextContent("Wrong PIN or passphrase");
    expect(onunlocked).not.toHaveBeenCalled();
    expect((await backend.appStatus()).unlocked).toBe(false);

    await fireEvent.input(screen.getByTestId("passphrase"), { target: { value: "123456" } });
    await fireEvent.click(screen.getByTestId("unlock-submit"));
    await waitFor(() => expect(onunlocked).toHaveBeenCalledWith(expect.objectContaining({ unlocked: true })));
  });

  it("first run asks for the officer id and the PIN twice", async () => {
    const backend = new MemoryBackend();
    const onunlocked = vi.fn();
    render(Gate, { props: { backend, status: await backend.appStatus(), onunlocked } });
    await fireEvent.input(screen.getByTestId("officer-id"), { target: { value: "B-9" } });
    await fireEvent.input(screen.getByTestId("passphrase"), { target: { value: "135790" } });
    await fireEvent.input(screen.getByTestId("passphrase-confirm"), { target: { value: "135791" } });
    await fireEvent.click(screen.getByTestId("unlock-submit"));
    expect(await screen.findByTestId("unlock-error")).toHaveTextContent("do not match");
    expect(backend.calls.some((c) => c.method === "setup")).toBe(false);

    await fireEvent.input(screen.getByTestId("passphrase"), { target: { value: "135790" } });
    await fireEvent.input(screen.getByTestId("passphrase-confirm"), { target: { value: "135790" } });
    await fireEvent.click(screen.getByTestId("unlock-submit"));
    await waitFor(() => expect(onunlocked).toHaveBeenCalledWith(expect.objectContaining({ officer_id: "B-9", unlocked: true })));
  });
});
