import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { describe, expect, it, vi } from "vitest";
import { MemoryBackend } from "../../src/lib/backend/memory";
import Gate from "../../src/lib/components/Gate.svelte";

describe("Gate", () => {
  it("shows a clear error on a wrong PIN and stays locked", async () => {
    const backend = new MemoryBackend({ initialized: { officerId: "B-1", passphrase: "123456" } });
    const onunlocked = vi.fn();
    render(Gate, { props: { backend, status: await backend.appStatus(), onunlocked, onstatus: vi.fn() } });
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
    render(Gate, { props: { backend, status: await backend.appStatus(), onunlocked, onstatus: vi.fn() } });
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

  it("says what the last wipe erased and why, on the first-run screen", async () => {
    const backend = new MemoryBackend();
    const status = {
      ...(await backend.appStatus()),
      wiped: { at: "2026-12-04T03:10:00Z", reason: "The agency revoked this device (lost in a car theft); its reports and key were erased." },
    };
    render(Gate, { props: { backend, status, onunlocked: vi.fn(), onstatus: vi.fn() } });
    const note = screen.getByTestId("wiped-note");
    expect(note).toHaveTextContent("lost in a car theft");
    expect(note).toHaveTextContent("had not synced are lost");
    expect(screen.getByTestId("officer-id")).toBeInTheDocument();
  });

  it("says how many tries are left and when the next is accepted", async () => {
    const backend = new MemoryBackend({ initialized: { officerId: "B-1", passphrase: "123456" } });
    const status = { ...(await backend.appStatus()), unlock_tries_left: 2, next_unlock_at: "2026-12-04T03:10:30Z" };
    render(Gate, { props: { backend, status, onunlocked: vi.fn(), onstatus: vi.fn() } });
    expect(screen.getByTestId("unlock-tries-left")).toHaveTextContent("2 wrong tries left before this device erases");
    expect(screen.getByTestId("unlock-next-try")).toBeInTheDocument();
  });

  it("reads the status again after a wrong PIN, so the screen shows what the core now says", async () => {
    const backend = new MemoryBackend({ initialized: { officerId: "B-1", passphrase: "123456" } });
    const onstatus = vi.fn();
    render(Gate, { props: { backend, status: await backend.appStatus(), onunlocked: vi.fn(), onstatus } });
    await fireEvent.input(screen.getByTestId("passphrase"), { target: { value: "999999" } });
    await fireEvent.click(screen.getByTestId("unlock-submit"));
    await waitFor(() => expect(onstatus).toHaveBeenCalledWith(expect.objectContaining({ unlocked: false })));
  });
});
