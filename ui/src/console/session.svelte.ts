// Who is signed in to the console, for every page (`session.current`).
import type { ConsoleSession } from "./bindings/ConsoleSession";
import type { Role } from "./bindings/Role";
import { request, setCsrfToken } from "./api";

class SessionState {
  current = $state<ConsoleSession | null>(null);

  set(session: ConsoleSession | null): void {
    this.current = session;
    setCsrfToken(session?.csrf_token ?? "");
  }

  has(roles: Role[]): boolean {
    return this.current !== null && roles.includes(this.current.role);
  }

  /** The session the cookie carries, if any (on load). */
  async restore(): Promise<void> {
    try {
      this.set(await request<ConsoleSession>("GET", "/v1/console/session"));
    } catch {
      this.set(null);
    }
  }

  async signOut(): Promise<void> {
    try {
      await request("POST", "/v1/console/sign-out");
    } finally {
      this.set(null);
    }
  }
}

export const session = new SessionState();
