#!/usr/bin/env bash
# Builds and starts Waypoint on Debian 12: installs what is missing, builds the UI and the app
# (release, UI embedded), puts the demo agency configuration in place on first run, and runs it.
# Safe to run again: every step is skipped when its result is already there.
#   --debug   build the debug profile instead (much faster to compile, slower to run)
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$REPO_ROOT"

profile=release
build_flags=()
if [ "${1:-}" = "--debug" ]; then
  profile=debug
  build_flags=(--debug)
fi

apt_install "${BUILD_PACKAGES[@]}"
ensure_rust
ensure_node
npm_ci "$REPO_ROOT"
build_ui

say "building the app ($profile, UI embedded)"
TAURI_APP_PATH="$REPO_ROOT/src-tauri" npx --no-install tauri build --no-bundle "${build_flags[@]}" </dev/null

APP="$(target_dir)/$profile/waypoint-app"
[ -x "$APP" ] || die "the build did not produce $APP"

say "building the demo agency server ($profile)"
if [ "$profile" = release ]; then cargo build --release -p waypoint-server </dev/null; else cargo build -p waypoint-server </dev/null; fi
SERVER="$(target_dir)/$profile/waypoint-server"

# Where the app keeps its data (see README): $WAYPOINT_DATA_DIR, else the XDG data folder.
DATA_DIR="${WAYPOINT_DATA_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/org.waypoint.field}"
if [ -z "${WAYPOINT_AGENCY_CONFIG:-}" ] && [ ! -f "$DATA_DIR/agency.json" ]; then
  say "first run: using the demo agency configuration ($DATA_DIR/agency.json)"
  mkdir -p "$DATA_DIR"
  chmod 700 "$DATA_DIR"
  cp "$REPO_ROOT/assets/agency.json" "$DATA_DIR/agency.json"
fi

has_display=1
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then has_display=0; fi

# A demo agency server on this machine (HTTPS, self-signed): the Sync screen enrols with it, and
# it serves the Waypoint Console (the sergeant's review desk, the admin's console) in a browser.
# Set WAYPOINT_NO_DEMO_SERVER=1 to skip it.
server_pid=""
if [ -z "${WAYPOINT_NO_DEMO_SERVER:-}" ]; then
  SERVER_DIR="${WAYPOINT_DEMO_SERVER_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/waypoint-demo-server}"
  if [ ! -f "$SERVER_DIR/.demo-ready" ]; then
    say "first run: setting up a demo agency server in $SERVER_DIR"
    RUST_LOG=warn "$SERVER" --data-dir "$SERVER_DIR" init >/dev/null
    RUST_LOG=warn "$SERVER" --data-dir "$SERVER_DIR" demo users >/dev/null
    touch "$SERVER_DIR/.demo-ready"
  fi
  if (exec 3<>/dev/tcp/127.0.0.1/8443) 2>/dev/null; then
    warn "127.0.0.1:8443 is taken: not starting the demo server"
  else
    RUST_LOG=warn "$SERVER" --data-dir "$SERVER_DIR" serve --listen 127.0.0.1:8443 &
    server_pid=$!
    trap 'kill "$server_pid" 2>/dev/null || true' EXIT
    slip="$("$SERVER" --data-dir "$SERVER_DIR" device enroll 2>&1)"
    code="$(printf '%s\n' "$slip" | head -n 1)"
    fingerprint="$(printf '%s\n' "$slip" | sed -n 's/^certificate SHA-256: //p')"
    cat <<MSG

Demo agency server running at https://localhost:8443 (its certificate is self-signed: the
browser asks you to accept it once).

The Waypoint Console, in a browser: https://localhost:8443/console/
  Sergeant (review desk)   demo.sergeant / demo-password
  Records admin            demo.admin / demo-password
  Authenticator code       $SERVER --data-dir "$SERVER_DIR" demo code demo.sergeant
                           (or demo.admin; a new code every 30 seconds)

The field app: open "Sync" in Waypoint's header and enrol with
  Server address           https://localhost:8443
  Enrolment code           $code
  Certificate fingerprint  $fingerprint
  Officer sign-in          demo.officer / demo-password (set Waypoint up with officer ID
                           DEMO-1207: the server accepts only reports of the signed-in officer)

MSG
  fi
fi

if [ "$has_display" = 0 ]; then
  cat <<MSG
Waypoint is built: $APP
There is no graphical display here (neither DISPLAY nor WAYLAND_DISPLAY is set), so the field
app's window cannot be shown: run this script again from a desktop session, or try it headless
with: xvfb-run -a $APP
MSG
  if [ -n "$server_pid" ]; then
    say "the demo server (and its console) keeps running: press Ctrl-C to stop it"
    wait "$server_pid"
  fi
  exit 0
fi

say "starting Waypoint (data in $DATA_DIR)"
"$APP"
