import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { describe, expect, it, vi } from "vitest";
import { CORE_FIXTURES, DEMO_CONFIG, MemoryBackend } from "../../src/lib/backend/memory";
import SettingsScreen from "../../src/lib/settings/SettingsScreen.svelte";

async function open() {
  const backend = new MemoryBackend({ initialized: { officerId: "B-1", passphrase: "123456" } });
  await backend.unlock("123456");
  render(SettingsScreen, { props: { backend } });
  return backend;
}

async function changePin(current: string, next: string, confirm = next) {
  await fireEvent.input(screen.getByTestId("pin-current"), { target: { value: current } });
  await fireEvent.input(screen.getByTestId("pin-new"), { target: { value: next } });
  await fireEvent.input(screen.getByTestId("pin-confirm"), { target: { value: confirm } });
  await fireEvent.click(screen.getByTestId("change-pin-submit"));
}

describe("Settings: change PIN", () => {
  it("changes the PIN with the current one, and the new one unlocks", async () => {
    const backend = await open();
    await changePin("123456", "246810");
    expect(await screen.findByTestId("change-pin-done")).toHaveTextContent("PIN changed");
    expect(backend.calls.find((c) => c.method === "changePassphrase")).toBeDefined();
    expect((screen.getByTestId("pin-current") as HTMLInputElement).value).toBe("");
    await backend.lock();
    await expect(backend.unlock("123456")).rejects.toMatchObject({ kind: "wrong_passphrase" });
    expect((await backend.unlock("246810")).unlocked).toBe(true);
  });

  it("shows a wrong current PIN beside the current PIN", async () => {
    await open();
    await changePin("999999", "246810");
    const error = await screen.findByTestId("field-error-current_passphrase");
    expect(error).toHaveTextContent("Wrong PIN");
    expect(document.querySelector('[data-field="current_passphrase"]')).toContainElement(error);
    expect(screen.queryByTestId("change-pin-done")).toBeNull();
  });

  it("shows the core's rejection of the new PIN beside the new PIN", async () => {
    const backend = await open();
    backend.failures.set("changePassphrase", CORE_FIXTURES.short_passphrase);
    await changePin("123456", "1");
    const error = await screen.findByTestId("field-error-passphrase");
    expect(error).toHaveTextContent(CORE_FIXTURES.short_passphrase.message);
    expect(screen.getByTestId("pin-new")).toHaveAttribute("aria-describedby", error.id);
  });

  it("does not send two different new PINs", async () => {
    const backend = await open();
    await changePin("123456", "246810", "246811");
    expect(await screen.findByTestId("field-error-passphrase_confirm")).toHaveTextContent("do not match");
    expect(backend.calls.some((c) => c.method === "changePassphrase")).toBe(false);
  });

  it("shows an error without a field as a general error", async () => {
    const backend = await open();
    backend.failures.set("changePassphrase", { kind: "storage", message: "database is full" });
    await changePin("123456", "246810");
    expect(await screen.findByTestId("change-pin-error")).toHaveTextContent("database is full");
  });
});

describe("Settings: verify the audit log", () => {
  it("says the log is intact and how many entries it has", async () => {
    const backend = await open();
    const expected = (await backend.verifyAudit()).entries + 1; // the screen's own call adds one
    await fireEvent.click(screen.getByTestId("audit-verify"));
    expect(await screen.findByTestId("audit-result")).toHaveTextContent(`Intact, ${expected} entries.`);
  });

  it("says where the chain breaks", async () => {
    const backend = await open();
    backend.failures.set("verifyAudit", { kind: "audit_tampered", message: "audit log: row 3 was changed" });
    await fireEvent.click(screen.getByTestId("audit-verify"));
    const result = await screen.findByTestId("audit-result");
    expect(result).toHaveTextContent("Broken: audit log: row 3 was changed");
    expect(result).toHaveAttribute("role", "alert");
  });

  it("shows other failures as they are", async () => {
    const backend = await open();
    backend.failures.set("verifyAudit", CORE_FIXTURES.locked);
    await fireEvent.click(screen.getByTestId("audit-verify"));
    await waitFor(() => expect(screen.getByTestId("audit-error")).toHaveTextContent(CORE_FIXTURES.locked.message));
    expect(screen.queryByTestId("audit-result")).toBeNull();
  });
});

describe("Settings: agency configuration", () => {
  it("shows the configuration version in use", async () => {
    await open();
    expect(await screen.findByTestId("agency-config-version")).toHaveTextContent(String(DEMO_CONFIG.config_version));
    expect(screen.getByTestId("agency-config-name")).toHaveTextContent(DEMO_CONFIG.agency_name);
  });
});

describe("Settings: device security", () => {
  it("says the agency's auto-lock delay and wrong-try limit, and locks on request", async () => {
    const config = structuredClone(DEMO_CONFIG);
    config.device_policy.auto_lock_minutes = 7;
    config.device_policy.max_failed_unlocks = 5;
    const backend = new MemoryBackend({ initialized: { officerId: "B-1", passphrase: "123456" }, config });
    await backend.unlock("123456");
    const onlock = vi.fn();
    render(SettingsScreen, { props: { backend, onlock } });
    expect(await screen.findByTestId("auto-lock-delay")).toHaveTextContent("after 7 minutes without input");
    expect(screen.getByTestId("wrong-try-limit")).toHaveTextContent("After 5 wrong PIN tries");
    expect(screen.getByTestId("device-officer")).toHaveTextContent("B-1");
    await fireEvent.click(screen.getByTestId("lock-now"));
    expect(onlock).toHaveBeenCalledOnce();
  });
});
