// The desk's keyboard: j / ArrowDown next, k / ArrowUp previous, a approve, r return. Not while
// typing in a field, and not with Ctrl, Alt or Meta held (the browser's own shortcuts).

export type DeskKey = "next" | "previous" | "approve" | "return";

const ACTIONS: Record<string, DeskKey> = {
  j: "next",
  ArrowDown: "next",
  k: "previous",
  ArrowUp: "previous",
  a: "approve",
  r: "return",
};

export function deskKey(event: Pick<KeyboardEvent, "key" | "ctrlKey" | "altKey" | "metaKey" | "target">): DeskKey | null {
  if (event.ctrlKey || event.altKey || event.metaKey) return null;
  const target = event.target as HTMLElement | null;
  if (target && (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName))) return null;
  return ACTIONS[event.key] ?? null;
}
