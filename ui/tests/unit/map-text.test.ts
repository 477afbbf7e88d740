// Directory text reaches the map as text only: a service named like an HTML tag shows those
// letters in its tooltip, and no element is made from it (the name comes from national
// listings and agencies' own files, not from Waypoint).
import { render, waitFor } from "@testing-library/svelte";
import { describe, expect, it, vi } from "vitest";

import ServicesMap from "../../src/lib/services/ServicesMap.svelte";
import LocationMap from "../../src/console/review/LocationMap.svelte";
import type { Suggestion } from "../../src/lib/bindings/Suggestion";

// jsdom has no layout, so no ResizeObserver: the maps only use it to follow their container.
vi.stubGlobal(
  "ResizeObserver",
  class {
    observe() {}
    unobserve() {}
    disconnect() {}
  },
);

const HOSTILE = '<img src=x onerror="window.__hostile=1">';

describe("map labels", () => {
  it("shows a service's name in its tooltip as text, in the field app's map", async () => {
    const onready = vi.fn();
    const services = [{ service_at_location_id: "s1", rank: 1, name: HOSTILE, latitude: 30.27, longitude: -97.74, open_now: "open" }];
    const { container } = render(ServicesMap, {
      props: {
        position: null,
        services: services as unknown as Suggestion[],
        spotlight: { lat: 30.27, lon: -97.74, name: HOSTILE },
        onselect: () => {},
        onplace: () => {},
        onready,
      },
    });
    await waitFor(() => expect(onready).toHaveBeenCalled(), { timeout: 3000 }).catch(() => {
      throw new Error(container.textContent ?? "");
    });
    const tooltip = await waitFor(() => {
      const found = container.querySelector(".leaflet-tooltip");
      expect(found).not.toBeNull();
      return found!;
    });
    expect(tooltip.textContent).toBe(HOSTILE);

    // A ranked service's tooltip opens when the pointer is on its marker.
    container.querySelector(".service-marker")!.dispatchEvent(new MouseEvent("mouseover", { bubbles: true }));
    await waitFor(() => expect(container.querySelectorAll(".leaflet-tooltip")).toHaveLength(2));
    expect(container.querySelectorAll(".leaflet-tooltip")[1].textContent).toBe(`1. ${HOSTILE}`);
    expect(container.querySelector("img")).toBeNull();
    expect((window as unknown as { __hostile?: number }).__hostile).toBeUndefined();
  });

  it("shows the report's place label as text, in the console's map", async () => {
    const { container } = render(LocationMap, { props: { lat: 30.27, lon: -97.74, title: HOSTILE } });
    const marker = await waitFor(
      () => {
        const found = container.querySelector(".encounter-marker");
        expect(found).not.toBeNull();
        return found!;
      },
      { timeout: 3000 },
    );
    marker.dispatchEvent(new MouseEvent("mouseover", { bubbles: true }));
    await waitFor(() => expect(container.querySelector(".leaflet-tooltip")?.textContent).toBe(HOSTILE));
    expect(container.querySelector("img")).toBeNull();
  });
});
