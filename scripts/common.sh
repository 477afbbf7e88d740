# Shared by run.sh and test.sh: install what is missing on Debian 12, quietly and without prompts.
# Source it; it defines functions only (and sets the repo root).

set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export DEBIAN_FRONTEND=noninteractive
# Vite 7 (the UI's bundler) needs Node 20.19 or newer.
NODE_MIN_MAJOR=20
NODE_MIN_MINOR=19
# Tauri 2 needs a recent stable Rust.
RUST_MIN_MINOR=90

say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }
warn() { printf '\033[1;33mwarning:\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo -E "$@"
  else
    die "need root (or sudo) to run: $*"
  fi
}

APT_UPDATED=0
# apt_install PKG...: installs only the packages that are not installed yet.
apt_install() {
  local missing=()
  local pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  say "apt: installing ${missing[*]}"
  if [ "$APT_UPDATED" -eq 0 ]; then
    as_root apt-get update -qq
    APT_UPDATED=1
  fi
  as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
}

BUILD_PACKAGES=(libwebkit2gtk-4.1-dev build-essential curl file libxdo-dev libssl-dev
  libayatana-appindicator3-dev librsvg2-dev pkg-config ca-certificates)
# python3-venv: the schemathesis suite installs schemathesis from PyPI into a venv of its own.
TEST_PACKAGES=(xvfb webkit2gtk-driver chromium gpsd gpsd-clients imagemagick python3 python3-venv postgresql-client)

ensure_rust() {
  # shellcheck disable=SC1091
  [ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
  if ! command -v cargo >/dev/null 2>&1; then
    say "installing Rust with rustup (stable, minimal profile)"
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal </dev/null
    # shellcheck disable=SC1091
    . "$HOME/.cargo/env"
  fi
  local minor
  minor="$(rustc --version | sed -E 's/^rustc 1\.([0-9]+).*/\1/')"
  if [ "$minor" -lt "$RUST_MIN_MINOR" ]; then
    if command -v rustup >/dev/null 2>&1; then
      say "Rust 1.$minor is too old for Tauri 2: updating the stable toolchain"
      rustup update stable </dev/null
    else
      die "Rust 1.$minor is too old (need 1.$RUST_MIN_MINOR+); install Rust with rustup"
    fi
  fi
}

node_is_recent() {
  command -v node >/dev/null 2>&1 || return 1
  local major minor
  IFS=. read -r major minor _ <<<"$(node --version | tr -d v)"
  [ "$major" -gt "$NODE_MIN_MAJOR" ] || { [ "$major" -eq "$NODE_MIN_MAJOR" ] && [ "$minor" -ge "$NODE_MIN_MINOR" ]; }
}

ensure_node() {
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    apt_install nodejs npm
  fi
  if ! node_is_recent; then
    # Debian 12 ships Node 18; the npm package `node` carries a newer official build.
    say "Node $(node --version) is older than $NODE_MIN_MAJOR.$NODE_MIN_MINOR: installing node@22 from npm"
    as_root npm install --global --no-audit --no-fund node@22 </dev/null
    hash -r
    node_is_recent || die "could not get Node $NODE_MIN_MAJOR.$NODE_MIN_MINOR+ (have $(node --version))"
  fi
}

# npm_ci DIR: `npm ci` unless node_modules is already in step with the lock file.
npm_ci() {
  local dir="$1"
  [ -f "$dir/package-lock.json" ] || die "$dir/package-lock.json is missing"
  if [ -f "$dir/node_modules/.package-lock.json" ] && [ "$dir/node_modules/.package-lock.json" -nt "$dir/package-lock.json" ]; then
    return 0
  fi
  say "npm ci in ${dir#"$REPO_ROOT"/}"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error </dev/null)
}

# build_ui: the UI bundle that the app embeds (ui/dist).
build_ui() {
  npm_ci "$REPO_ROOT/ui"
  say "building the UI (ui/dist)"
  (cd "$REPO_ROOT/ui" && npm run --silent build </dev/null)
}

target_dir() {
  echo "${CARGO_TARGET_DIR:-$REPO_ROOT/target}"
}
