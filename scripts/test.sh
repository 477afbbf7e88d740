#!/usr/bin/env bash
# Runs every test of Waypoint on Debian 12 (also in CI: CI=true, no stdin): installs what is
# missing, builds the UI and the app, then runs the Rust tests, the UI tests and the end-to-end
# test of the real app under Xvfb. Exits non-zero when any suite fails.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$REPO_ROOT"
exec </dev/null

started=$(date +%s)
apt_install "${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}"
ensure_rust
ensure_node
if ! command -v tauri-driver >/dev/null 2>&1; then
  say "installing tauri-driver"
  # Its own target folder: it must not depend on (or dirty) the project's.
  env -u CARGO_TARGET_DIR cargo install tauri-driver --locked --quiet
fi
npm_ci "$REPO_ROOT"
npm_ci "$REPO_ROOT/tests/e2e"
build_ui
say "setup took $(($(date +%s) - started)) s"

results=()
failed=0
# suite NAME COMMAND...: runs one suite, records pass/fail and its time, never stops the script.
suite() {
  local name="$1"
  shift
  local t0 status
  t0=$(date +%s)
  say "suite: $name"
  set +e
  "$@"
  status=$?
  set -e
  local seconds=$(($(date +%s) - t0))
  if [ "$status" -eq 0 ]; then
    results+=("PASS  $name (${seconds}s)")
  else
    results+=("FAIL  $name (${seconds}s, exit $status)")
    failed=$((failed + 1))
  fi
  return 0
}

build_app() {
  # The e2e sync test runs the real server beside the app.
  cargo build -p waypoint-app -p waypoint-server --bins
}

# The server binary, then schemathesis (from PyPI, in a cached venv) against its /openapi.json.
schemathesis_suite() {
  cargo build -p waypoint-server &&
    WAYPOINT_SERVER="$(target_dir)/debug/waypoint-server" bash tests/schemathesis/run.sh
}

# The console in Debian's Chromium against the real server (its files read from ui/dist).
console_suite() {
  cargo build -p waypoint-server && cargo build -p waypoint-core --example device &&
    (cd ui && WAYPOINT_SERVER="$(target_dir)/debug/waypoint-server" \
      WAYPOINT_DEVICE="$(target_dir)/debug/examples/device" node tests/console/run.mjs)
}

suite "cargo test --workspace" cargo test --workspace --no-fail-fast
# Lints as a gate where clippy is installed (rustup's minimal profile, which ensure_rust uses on a
# fresh machine, has none; CI's toolchain has it).
if cargo clippy --version >/dev/null 2>&1; then
  suite "cargo clippy --workspace --all-targets (-D warnings)" cargo clippy --workspace --all-targets -- -D warnings
else
  say "cargo clippy is not installed: lint suite skipped"
fi
suite "schemathesis: /openapi.json" schemathesis_suite
suite "console: browser tests (SQLite, PostgreSQL)" console_suite
suite "ui: npm test" bash -c 'cd ui && npm test'
if (cd ui && node -e 'process.exit(require("./package.json").scripts?.["test:browser"] ? 0 : 1)'); then
  suite "ui: npm run test:browser" bash -c 'cd ui && npm run test:browser'
fi
suite "build waypoint-app (debug, UI embedded)" build_app
if [ -x "$(target_dir)/debug/waypoint-app" ]; then
  suite "e2e: real app via tauri-driver" env WAYPOINT_APP="$(target_dir)/debug/waypoint-app" bash tests/e2e/run.sh
else
  results+=("FAIL  e2e: real app via tauri-driver (no app binary)")
  failed=$((failed + 1))
fi

echo
echo "================ Waypoint test summary ================"
printf '%s\n' "${results[@]}"
echo "total time: $(($(date +%s) - started)) s"
echo "suites: $((${#results[@]} - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
