// How the outcome page shows the server's figures (presentation only: the server computes them).
import type { FigureUnit } from "../bindings/FigureUnit";

/** A figure's value in its unit, or a dash where the server could not compute it. */
export function figureText(value: number | null, unit: FigureUnit): string {
  if (value === null) return "—";
  const number = value.toLocaleString(undefined, { maximumFractionDigits: 2 });
  if (unit === "percent") return `${number} %`;
  if (unit === "minutes") return `${number} min`;
  return number;
}

/** The change from the previous period, as a signed number in the figure's unit. */
export function changeText(current: number | null, previous: number | null, unit: FigureUnit): string {
  if (current === null || previous === null) return "—";
  const delta = Math.round((current - previous) * 100) / 100;
  if (delta === 0) return "no change";
  const sign = delta > 0 ? "+" : "−";
  const magnitude = Math.abs(delta).toLocaleString(undefined, { maximumFractionDigits: 2 });
  const suffix = unit === "percent" ? " points" : unit === "minutes" ? " min" : "";
  return `${sign}${magnitude}${suffix}`;
}

export const DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/** A cell's shade (0 to 1) beside the largest count of the table. */
export function shade(count: number, largest: number): number {
  return largest > 0 ? count / largest : 0;
}
