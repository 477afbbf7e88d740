#!/usr/bin/env bash
# Runs the end-to-end suite against a built app on a private Xvfb display.
#   WAYPOINT_APP   the binary to test (default <target>/debug/waypoint-app)
#   TAURI_DRIVER   tauri-driver to use (default: from PATH or ~/.cargo/bin)
set -euo pipefail
E2E_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export PATH="$HOME/.cargo/bin:$PATH"

command -v Xvfb >/dev/null || { echo "Xvfb is missing (apt-get install xvfb)" >&2; exit 1; }
command -v WebKitWebDriver >/dev/null || { echo "WebKitWebDriver is missing (apt-get install webkit2gtk-driver)" >&2; exit 1; }
command -v "${TAURI_DRIVER:-tauri-driver}" >/dev/null || { echo "tauri-driver is missing (cargo install tauri-driver --locked)" >&2; exit 1; }

# A display number nobody uses, so several runs (or a desktop session) never collide.
display=99
while [ -e "/tmp/.X${display}-lock" ] || [ -e "/tmp/.X11-unix/X${display}" ]; do display=$((display + 1)); done
Xvfb ":$display" -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
xvfb_pid=$!
trap 'kill "$xvfb_pid" 2>/dev/null || true; wait "$xvfb_pid" 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  [ -e "/tmp/.X11-unix/X${display}" ] && break
  sleep 0.1
done
kill -0 "$xvfb_pid" 2>/dev/null || { echo "Xvfb did not start on :$display" >&2; exit 1; }
export DISPLAY=":$display"
# WebKit in a VM without GPU: software rendering, no sandbox helper prompts.
export WEBKIT_DISABLE_COMPOSITING_MODE=1
export LIBGL_ALWAYS_SOFTWARE=1

cd "$E2E_DIR"
node --test --test-concurrency=1 --test-reporter=spec ${E2E_TESTS:-./*.test.mjs}
