// Leaflet puts a string given to a tooltip or popup into the page as HTML. Directory text
// (service names, addresses) comes from national listings and agencies' own files, so it goes
// in as a text node inside an element instead: `<img src=x onerror=...>` shows as those letters.
export function textLabel(text: string): HTMLElement {
  const label = document.createElement("span");
  label.textContent = text;
  return label;
}
