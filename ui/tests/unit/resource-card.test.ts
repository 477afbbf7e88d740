import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { describe, expect, it, vi } from "vitest";
import { MemoryBackend } from "../../src/lib/backend/memory";
import ResourceCardDialog from "../../src/lib/services/ResourceCardDialog.svelte";

describe("resource card", () => {
  it("shows the chosen services and the QR code as an image, and prints", async () => {
    const backend = new MemoryBackend();
    const print = vi.spyOn(window, "print").mockImplementation(() => {});
    const onclose = vi.fn();
    render(ResourceCardDialog, { props: { backend, ids: ["sal-csu", "sal-shelter"], onclose } });

    const card = await backend.resourceCard(["sal-csu", "sal-shelter"]);
    const qr = await screen.findByTestId("card-qr");
    expect(qr.tagName).toBe("IMG");
    expect(decodeURIComponent(qr.getAttribute("src")!)).toBe(`data:image/svg+xml;charset=utf-8,${card.qr_svg}`);
    // The SVG is never put into the page as markup.
    expect(screen.getByTestId("resource-card").querySelector("svg")).toBeNull();
    expect(screen.getAllByTestId("card-entry").map((e) => e.querySelector("strong")!.textContent)).toEqual(card.entries.map((e) => e.name));
    expect(screen.getByTestId("card-crisis-line")).toHaveTextContent(card.crisis_line);
    expect(backend.calls.find((c) => c.method === "resourceCard")?.args).toEqual([["sal-csu", "sal-shelter"]]);

    await fireEvent.click(screen.getByTestId("print-card"));
    expect(print).toHaveBeenCalledTimes(1);
    await fireEvent.keyDown(screen.getByTestId("resource-card"), { key: "Escape" });
    expect(onclose).toHaveBeenCalled();
    print.mockRestore();
  });

  it("copies the card's text", async () => {
    const written: string[] = [];
    Object.defineProperty(navigator, "clipboard", { value: { writeText: async (text: string) => void written.push(text) }, configurable: true });
    const backend = new MemoryBackend();
    render(ResourceCardDialog, { props: { backend, ids: ["sal-detox"], onclose: () => {} } });
    await screen.findByTestId("card-qr");
    await fireEvent.click(screen.getByTestId("copy-card"));
    const card = await backend.resourceCard(["sal-detox"]);
    await waitFor(() => expect(written).toEqual([card.text]));
  });
});
