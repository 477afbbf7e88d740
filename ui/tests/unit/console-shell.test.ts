// The console's shell and sign-in, against canned server replies (fetch stubbed): what each reply
// makes the screen show. The server's rules are tested in Rust; here only the screens.
import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { afterEach, describe, expect, it, vi } from "vitest";
import Console from "../../src/console/Console.svelte";
import { ApiFailure, request, setCsrfToken, withQuery } from "../../src/console/api";
import { match } from "../../src/console/routes";
import { session } from "../../src/console/session.svelte";

type Reply = { status: number; body?: unknown };

function stubFetch(replies: Record<string, Reply | Reply[]>) {
  const calls: { method: string; path: string; headers: Record<string, string>; body?: unknown }[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (path: string, init: RequestInit = {}) => {
      const method = init.method ?? "GET";
      calls.push({ method, path, headers: (init.headers ?? {}) as Record<string, string>, body: init.body && JSON.parse(String(init.body)) });
      const entry = replies[`${method} ${path}`];
      const reply = Array.isArray(entry) ? entry.shift() : entry;
      if (!reply) return new Response(JSON.stringify({ error: "not_found", message: "no such endpoint" }), { status: 404 });
      return new Response(reply.body === undefined ? null : JSON.stringify(reply.body), {
        status: reply.status,
        headers: { "content-type": "application/json" },
      });
    }),
  );
  return calls;
}

const SERGEANT = {
  username: "sgt.alvarez",
  role: "supervisor",
  officer_id: "B-2101",
  csrf_token: "c".repeat(64),
  expires_at: "2026-12-02T12:00:00Z",
  idle_timeout_minutes: 30,
};

afterEach(() => {
  vi.unstubAllGlobals();
  session.set(null);
  location.hash = "";
});

describe("console routes", () => {
  it("matches a page and what follows its path", () => {
    expect(match("")?.route.path).toBe("#/");
    expect(match("#/")?.route.path).toBe("#/");
    expect(match("#/no-such-page")).toBeNull();
  });
});

describe("console api", () => {
  it("sends the CSRF token on changes only, and turns error bodies into ApiFailure", async () => {
    const calls = stubFetch({
      "POST /v1/x": { status: 422, body: { error: "invalid", message: "a comment is required", field: "comment" } },
      "GET /v1/y": { status: 200, body: { ok: true } },
    });
    setCsrfToken("t0k");
    await expect(request("GET", "/v1/y")).resolves.toEqual({ ok: true });
    const failure = await request("POST", "/v1/x", {}).catch((e) => e);
    expect(failure).toBeInstanceOf(ApiFailure);
    expect(failure).toMatchObject({ status: 422, kind: "invalid", message: "a comment is required", field: "comment" });
    expect(calls[0].headers["x-csrf-token"]).toBeUndefined();
    expect(calls[1].headers["x-csrf-token"]).toBe("t0k");
  });

  it("builds queries from the parameters that are set", () => {
    expect(withQuery("/v1/q", { a: "x y", b: "", c: false, d: true, e: 3, f: null })).toBe("/v1/q?a=x+y&d=true&e=3");
  });
});

describe("console sign-in", () => {
  it("asks for the authenticator code when the password was right but the code is missing", async () => {
    const calls = stubFetch({
      "GET /v1/console/session": { status: 401, body: { error: "unauthorized", message: "missing credential" } },
      "POST /v1/console/sign-in": [
        { status: 401, body: { error: "mfa_required", message: "send the code" } },
        { status: 200, body: SERGEANT },
      ],
    });
    render(Console);
    await fireEvent.input(await screen.findByTestId("sign-in-username"), { target: { value: "sgt.alvarez" } });
    await fireEvent.input(screen.getByTestId("sign-in-password"), { target: { value: "sergeant passphrase" } });
    await fireEvent.click(screen.getByTestId("sign-in-submit"));
    expect(await screen.findByTestId("sign-in-error")).toHaveTextContent("6-digit code");
    await fireEvent.input(screen.getByTestId("sign-in-totp"), { target: { value: "123456" } });
    await fireEvent.click(screen.getByTestId("sign-in-submit"));
    expect(await screen.findByTestId("signed-in-as")).toHaveTextContent("sgt.alvarez · supervisor");
    expect(calls.filter((c) => c.path === "/v1/console/sign-in")[1].body).toMatchObject({ totp: "123456" });
  });

  it("shows the server's refusal as it is", async () => {
    stubFetch({
      "GET /v1/console/session": { status: 401, body: { error: "unauthorized", message: "x" } },
      "POST /v1/console/sign-in": { status: 401, body: { error: "unauthorized", message: "wrong username, password or code" } },
    });
    render(Console);
    await fireEvent.input(await screen.findByTestId("sign-in-username"), { target: { value: "a" } });
    await fireEvent.input(screen.getByTestId("sign-in-password"), { target: { value: "b" } });
    await fireEvent.click(screen.getByTestId("sign-in-submit"));
    expect(await screen.findByTestId("sign-in-error")).toHaveTextContent("wrong username, password or code");
  });

  it("goes on to MFA enrolment when the server answers 202", async () => {
    stubFetch({
      "GET /v1/console/session": { status: 401, body: { error: "unauthorized", message: "x" } },
      "POST /v1/console/sign-in": { status: 202, body: { enrolment_token: "wpe_1", expires_at: "2026-12-02T03:00:00Z", message: "enrol" } },
      "POST /v1/mfa/enrolment": { status: 200, body: { otpauth_url: "otpauth://totp/x", qr_png_base64: "iVBORw0KGgo=", secret: "JBSWY3DPEHPK3PXP" } },
    });
    render(Console);
    await fireEvent.input(await screen.findByTestId("sign-in-username"), { target: { value: "a" } });
    await fireEvent.input(screen.getByTestId("sign-in-password"), { target: { value: "b" } });
    await fireEvent.click(screen.getByTestId("sign-in-submit"));
    expect(await screen.findByTestId("mfa-secret")).toHaveTextContent("JBSWY3DPEHPK3PXP");
    expect(screen.getByTestId("mfa-qr")).toHaveAttribute("src", "data:image/png;base64,iVBORw0KGgo=");
  });

  it("an officer's account is told what the console is for", async () => {
    stubFetch({ "GET /v1/console/session": { status: 200, body: { ...SERGEANT, username: "ofc", role: "officer" } } });
    render(Console);
    expect(await screen.findByTestId("officer-note")).toHaveTextContent("Officers file and amend their reports");
  });

  it("a 401 during use returns to sign-in and says why", async () => {
    stubFetch({
      "GET /v1/console/session": { status: 200, body: SERGEANT },
      "GET /v1/anything": { status: 401, body: { error: "unauthorized", message: "session ended" } },
    });
    render(Console);
    await screen.findByTestId("signed-in-as");
    await request("GET", "/v1/anything").catch(() => {});
    expect(await screen.findByTestId("session-notice")).toHaveTextContent("Your session ended");
    await waitFor(() => expect(screen.queryByTestId("signed-in-as")).toBeNull());
  });
});
