// The console's pages: one line each. The shell shows a page in the navigation only to the roles
// listed; the server refuses the others anyway (the page is a view, the API is the lock).
import type { Component } from "svelte";
import type { Role } from "./bindings/Role";
import Home from "./Home.svelte";
import ReviewDesk from "./review/ReviewDesk.svelte";
import AdminUsers from "./admin/Users.svelte";
import AdminDevices from "./admin/Devices.svelte";
import AdminAudit from "./admin/Audit.svelte";
import AdminExports from "./admin/Exports.svelte";
import AdminConfig from "./config/ConfigPage.svelte";
import AdminDirectory from "./directory/DirectoryPage.svelte";
import Outcomes from "./outcomes/OutcomesPage.svelte";
import AdminRecords from "./records/RecordsFeedPage.svelte";
import AdminTraining from "./training/TrainingPage.svelte";

export interface ConsoleRoute {
  /** The hash route, e.g. `#/review`; a page may take more after it (`#/review/ID`). */
  path: string;
  title: string;
  roles: Role[];
  component: Component<{ rest: string }>;
  /** Shown in the navigation (false: reachable by link only). */
  nav?: boolean;
}

export const SUPERVISORS: Role[] = ["supervisor", "admin"];
export const ADMINS: Role[] = ["admin"];
/** Who reads the outcome figures: an analyst reads nothing else. */
export const FIGURE_READERS: Role[] = ["supervisor", "admin", "analyst"];

export const routes: ConsoleRoute[] = [
  { path: "#/", title: "Home", roles: ["officer", "supervisor", "admin", "analyst"], component: Home },
  { path: "#/review", title: "Review desk", roles: SUPERVISORS, component: ReviewDesk },
  { path: "#/outcomes", title: "Outcomes", roles: FIGURE_READERS, component: Outcomes },
  { path: "#/admin/users", title: "Users", roles: ADMINS, component: AdminUsers },
  { path: "#/admin/devices", title: "Devices", roles: ADMINS, component: AdminDevices },
  { path: "#/admin/audit", title: "Audit log", roles: ADMINS, component: AdminAudit },
  { path: "#/admin/exports", title: "Exports", roles: ADMINS, component: AdminExports },
  { path: "#/admin/config", title: "Configuration", roles: ADMINS, component: AdminConfig },
  { path: "#/admin/directory", title: "Directory", roles: ADMINS, component: AdminDirectory },
  { path: "#/admin/records", title: "Records feed", roles: ADMINS, component: AdminRecords },
  { path: "#/admin/training", title: "CIT training", roles: ADMINS, component: AdminTraining },
];

/** The route for a location hash, and what follows its path. */
export function match(hash: string): { route: ConsoleRoute; rest: string } | null {
  const wanted = hash === "" || hash === "#" ? "#/" : hash;
  let best: { route: ConsoleRoute; rest: string } | null = null;
  for (const route of routes) {
    const isPrefix = wanted === route.path || (route.path !== "#/" && wanted.startsWith(route.path + "/"));
    if (isPrefix && (!best || route.path.length > best.route.path.length)) {
      best = { route, rest: wanted.slice(route.path.length).replace(/^\//, "") };
    }
  }
  return best;
}
