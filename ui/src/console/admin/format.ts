// How the admin pages show what the server sends (presentation only: the server decides).

/** An RFC 3339 time in the browser's locale, or a dash. */
export function when(time: string | null | undefined): string {
  if (!time) return "—";
  const date = new Date(time);
  return Number.isNaN(date.getTime()) ? time : date.toLocaleString();
}

/** How long ago, roughly ("3 min ago"), or a dash. */
export function ago(time: string | null | undefined, now: number = Date.now()): string {
  if (!time) return "—";
  const seconds = Math.round((now - new Date(time).getTime()) / 1000);
  if (Number.isNaN(seconds)) return time;
  if (seconds < 60) return "just now";
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.round(hours / 24)} days ago`;
}

/** A failure as a sentence for a status line. */
export function failureText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** An SVG document as an image source the console's CSP allows (img-src data:). */
export function svgSource(svg: string): string {
  return `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
}
