// Sign-in to the console: first sign-in enrols the authenticator (QR, key, first code, recovery
// codes), a wrong code is refused, the session cookie is out of script's reach, a change without
// the CSRF token is refused, and an officer's account opens no supervisor or admin API.
const SERGEANT = { username: "sgt.alvarez", password: "sergeant passphrase 1" };
const OFFICER = { username: "ofc.jordan", password: "officer passphrase 1" };

export async function run(ctx) {
  ctx.server.addUser(SERGEANT.username, "supervisor", SERGEANT.password, "B-2101");
  ctx.server.addUser(OFFICER.username, "officer", OFFICER.password, "B-1207");

  const page = await ctx.newPage();
  await page.goto(`${ctx.baseUrl}/console/`);
  await page.getByTestId("sign-in-form").waitFor();
  await ctx.axe(page, "sign-in");
  await ctx.screenshot(page, "console-sign-in");

  // Keyboard only: the fields in order, Enter submits.
  await page.keyboard.press("Tab"); // the skip link
  await page.keyboard.press("Tab");
  ctx.check(await page.getByTestId("sign-in-username").evaluate((el) => el === document.activeElement), "Tab reaches the username first");
  await page.keyboard.type(SERGEANT.username);
  await page.keyboard.press("Tab");
  await page.keyboard.type(SERGEANT.password);
  await page.keyboard.press("Enter");
  await page.getByTestId("mfa-enrol").waitFor();
  await page.getByTestId("mfa-qr").waitFor();
  const qrDrawn = await page
    .waitForFunction(() => document.querySelector('[data-testid="mfa-qr"]')?.naturalWidth > 0, null, { timeout: 5000 })
    .then(() => true, () => false);
  ctx.check(qrDrawn, "the enrolment shows a QR code (a decodable image)");
  await ctx.axe(page, "MFA enrolment");
  await ctx.screenshot(page, "console-mfa-enrol");
  const secret = (await page.getByTestId("mfa-secret").innerText()).trim();
  ctx.check(/^[A-Z2-7]{16,}$/.test(secret), `the key to type is base32: ${secret}`);
  // A wrong first code does not enrol.
  await page.getByTestId("mfa-code").fill(ctx.totp(secret) === "000000" ? "111111" : "000000");
  await page.getByTestId("mfa-confirm").click();
  await page.getByTestId("mfa-error").waitFor();
  await page.getByTestId("mfa-code").fill(ctx.totp(secret));
  await page.getByTestId("mfa-confirm").click();
  ctx.markCodeUsed(secret);
  await page.getByTestId("recovery-codes").waitFor();
  const codes = await page.getByTestId("recovery-codes").locator("li").count();
  ctx.check(codes === 10, `ten recovery codes shown (${codes})`);
  await page.getByTestId("mfa-done").click();
  await page.getByTestId("signed-in-as").waitFor();
  ctx.check((await page.getByTestId("signed-in-as").innerText()).includes("supervisor"), "signed in as a supervisor");
  await ctx.axe(page, "home");
  await ctx.screenshot(page, "console-home");

  // The cookie: HttpOnly, Secure, SameSite=Strict; script sees none of it.
  const cookies = await page.context().cookies();
  const sessionCookie = cookies.find((c) => c.name === "waypoint_session");
  ctx.check(sessionCookie, "a session cookie is set");
  ctx.check(sessionCookie.httpOnly && sessionCookie.secure && sessionCookie.sameSite === "Strict", `cookie flags: ${JSON.stringify(sessionCookie)}`);
  ctx.check(!(await page.evaluate(() => document.cookie)).includes("waypoint_session"), "script cannot read the session cookie");

  // A change without the CSRF header is refused, even from the console's own origin.
  const csrf = await page.evaluate(async () => {
    const response = await fetch("/v1/console/sign-out", { method: "POST", credentials: "same-origin" });
    return { status: response.status, body: await response.json() };
  });
  ctx.check(csrf.status === 403 && csrf.body.error === "csrf", `sign-out without CSRF: ${JSON.stringify(csrf)}`);

  // Sign out, then a wrong code is refused and the right one signs in.
  await page.getByTestId("sign-out").click();
  await page.getByTestId("sign-in-form").waitFor();
  await page.getByTestId("sign-in-username").fill(SERGEANT.username);
  await page.getByTestId("sign-in-password").fill(SERGEANT.password);
  await page.getByTestId("sign-in-totp").fill(ctx.totp(secret) === "123456" ? "654321" : "123456");
  await page.getByTestId("sign-in-submit").click();
  await page.getByTestId("sign-in-error").waitFor();
  ctx.check(/wrong username, password or code/.test(await page.getByTestId("sign-in-error").innerText()), "a wrong code is refused");
  ctx.secrets.set(SERGEANT.username, secret);
  await ctx.signIn(page, SERGEANT.username, SERGEANT.password);
  ctx.check(await page.getByTestId("signed-in-as").isVisible(), "the right code signs in");

  // An officer's account: a console session, but no supervisor or admin API and no such pages.
  const officerPage = await ctx.newPage();
  await ctx.signIn(officerPage, OFFICER.username, OFFICER.password);
  await officerPage.getByTestId("officer-note").waitFor();
  const statuses = await officerPage.evaluate(async () => {
    const paths = ["/v1/review/queue", "/v1/metrics", "/v1/admin/users", "/v1/admin/devices"];
    return Promise.all(paths.map(async (path) => [path, (await fetch(path, { credentials: "same-origin" })).status]));
  });
  for (const [path, status] of statuses) ctx.check(status === 403, `officer GET ${path}: ${status}`);
  await ctx.screenshot(officerPage, "console-officer");
  await officerPage.context().close();
  await page.context().close();
}
