const FOCUSABLE = "button:not([disabled]), a[href], input:not([disabled]), select:not([disabled]), textarea:not([disabled])";

/**
 * Keyboard of a modal dialog: Escape closes it, Tab and Shift+Tab stay inside `panel`.
 * Used as the dialog element's `onkeydown`.
 */
export function dialogKeydown(event: KeyboardEvent, panel: HTMLElement, onclose: () => void): void {
  if (event.key === "Escape") {
    event.preventDefault();
    event.stopPropagation();
    onclose();
    return;
  }
  if (event.key !== "Tab") return;
  const items = [...panel.querySelectorAll<HTMLElement>(FOCUSABLE)];
  if (items.length === 0) return;
  const first = items[0];
  const last = items[items.length - 1];
  if (event.shiftKey && (document.activeElement === first || document.activeElement === panel)) {
    event.preventDefault();
    last.focus();
  } else if (!event.shiftKey && document.activeElement === last) {
    event.preventDefault();
    first.focus();
  }
}
