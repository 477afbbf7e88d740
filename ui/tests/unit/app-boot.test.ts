// App start-up: with the shell's boot snapshot the first screen is drawn at once (no IPC awaited),
// and the live status still wins when the snapshot is stale (a reloaded page).
import { render, screen, waitFor } from "@testing-library/svelte";
import { describe, expect, it, vi } from "vitest";
import App from "../../src/App.svelte";
import { MemoryBackend } from "../../src/lib/backend/memory";

describe("App start-up", () => {
  it("draws the unlock screen from the boot snapshot before any IPC answers", async () => {
    const snapshot = new MemoryBackend({ initialized: { officerId: "B-7", passphrase: "123456" } }).currentSnapshot();
    const backend = new MemoryBackend({ initialized: { officerId: "B-7", passphrase: "123456" }, bootSnapshot: snapshot });
    // Nothing the backend is asked for ever answers: the first screen must not need it.
    const never = () => new Promise<never>(() => {});
    vi.spyOn(backend, "appStatus").mockImplementation(never);
    vi.spyOn(backend, "agencyConfig").mockImplementation(never);
    render(App, { props: { backend } });
    expect(screen.getByTestId("passphrase")).toBeInTheDocument();
    expect(screen.getByText("B-7")).toBeInTheDocument();
    expect(screen.queryByText("Loading…")).toBeNull();
  });

  it("switches to the live status when the snapshot is stale", async () => {
    const backend = new MemoryBackend({ initialized: { officerId: "B-7", passphrase: "123456" } });
    const locked = backend.currentSnapshot();
    await backend.unlock("123456");
    const reloaded = new MemoryBackend({ initialized: { officerId: "B-7", passphrase: "123456" }, bootSnapshot: locked });
    await reloaded.unlock("123456");
    render(App, { props: { backend: reloaded } });
    // Locked in the snapshot, unlocked in fact: the encounter list replaces the unlock screen.
    await waitFor(() => expect(screen.queryByTestId("passphrase")).toBeNull());
    expect(screen.getByTestId("lock-button")).toBeInTheDocument();
  });

  it("without a snapshot waits for the status and configuration", async () => {
    const backend = new MemoryBackend();
    render(App, { props: { backend } });
    expect(screen.getByText("Loading…")).toBeInTheDocument();
    expect(await screen.findByTestId("officer-id")).toBeInTheDocument();
    expect(backend.calls.map((c) => c.method)).toEqual(expect.arrayContaining(["appStatus", "agencyConfig"]));
  });
});
