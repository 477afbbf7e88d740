// Inactivity: the agency's auto-lock delay runs from the officer's last key press, click, touch
// or scroll. The delay itself (and its bounds) is the agency's, checked by the core; this only
// watches the page.

const ACTIVITY = ["pointerdown", "keydown", "wheel", "touchstart", "input"] as const;

/** Calls `onIdle` once after `ms` without activity; returns the function that stops watching. */
export function watchIdle(ms: number, onIdle: () => void): () => void {
  let timer = setTimeout(onIdle, ms);
  const restart = () => {
    clearTimeout(timer);
    timer = setTimeout(onIdle, ms);
  };
  for (const event of ACTIVITY) window.addEventListener(event, restart, { capture: true, passive: true });
  return () => {
    clearTimeout(timer);
    for (const event of ACTIVITY) window.removeEventListener(event, restart, { capture: true });
  };
}
