// A real device core beside the browser: the `device` example of waypoint-core
// (crates/core/examples/device.rs), which drives the `Waypoint` facade as the field app does.
// $WAYPOINT_DEVICE names the built binary (default: target/debug/examples/device, made by
// `cargo build -p waypoint-core --example device`).
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const repo = fileURLToPath(new URL("../../..", import.meta.url));

export function deviceBinary() {
  const binary = process.env.WAYPOINT_DEVICE ?? join(repo, "target", "debug", "examples", "device");
  if (!existsSync(binary)) throw new Error(`no device core at ${binary}: cargo build -p waypoint-core --example device (or set WAYPOINT_DEVICE)`);
  return binary;
}

/** A device with its own data folder, set up for `officerId`; `run(...)` answers the JSON it printed. */
export function newDevice(officerId, pin = "482913") {
  const dataDir = mkdtempSync(join(tmpdir(), "waypoint-device-"));
  const run = (...args) => {
    const result = spawnSync(deviceBinary(), ["--data", dataDir, "--pin", pin, ...args], { encoding: "utf8", timeout: 120_000 });
    let reply = null;
    try {
      reply = JSON.parse(result.stdout.trim().split("\n").at(-1) ?? "null");
    } catch {
      reply = null;
    }
    if (result.status !== 0 || reply === null) {
      throw new Error(`device ${args[0]}: exit ${result.status}: ${result.stdout}${result.stderr}`);
    }
    return reply;
  };
  run("init", "--officer-id", officerId);
  return {
    dataDir,
    run,
    /** Enrols with a one-time code from the server's CLI, pinning its certificate. */
    enrol(server) {
      const code = server.cli(["device", "enroll"]).trim();
      return run("enrol", "--server", server.baseUrl, "--code", code, "--fingerprint", server.fingerprint);
    },
    signIn(username, password, totp) {
      return run("sign-in", "--username", username, "--password", password, ...(totp ? ["--totp", totp] : []));
    },
    sync() {
      return run("sync");
    },
    show(id) {
      return run("show", id);
    },
    remove() {
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
