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

# Where the app keeps its data (see README): $WAYPOINT_DATA_DIR, else the XDG data folder.
DATA_DIR="${WAYPOINT_DATA_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/org.waypoint.field}"
if [ -z "${WAYPOINT_AGENCY_CONFIG:-}" ] && [ ! -f "$DATA_DIR/agency.json" ]; then
  say "first run: using the demo agency configuration ($DATA_DIR/agency.json)"
  mkdir -p "$DATA_DIR"
  chmod 700 "$DATA_DIR"
  cp "$REPO_ROOT/assets/agency.json" "$DATA_DIR/agency.json"
fi

if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  cat <<MSG

Waypoint is built: $APP
There is no graphical display here (neither DISPLAY nor WAYLAND_DISPLAY is set), so no window can
be shown. Run this script again from a desktop session, or try it headless with:
  xvfb-run -a $APP
MSG
  exit 0
fi

say "starting Waypoint (data in $DATA_DIR)"
exec "$APP"
