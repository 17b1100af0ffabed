#!/usr/bin/env bash
# Installs or checks everything `npm start` and `npm test` need, and says clearly what is missing.
# Idempotent: each step is skipped when what it provides is already there.
#   scripts/setup.sh            Rust target, wasm-bindgen-cli, npm packages
#   scripts/setup.sh --browser  also Chromium + ChromeDriver (Debian packages) for the tests
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[setup] %s\033[0m\n' "$*" >&2; exit 1; }

command -v cargo >/dev/null || die "cargo not found: install Rust with rustup (https://rustup.rs), then re-run."
command -v node >/dev/null || die "node not found: install Node.js 20 or newer, then re-run."

# 1. The wasm target of the Rust standard library.
if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  command -v rustup >/dev/null || die "rustup not found: the wasm32-unknown-unknown target must be installed (rustup target add wasm32-unknown-unknown)."
  say "adding Rust target wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

# 1b. The standard library's source: scripts/build.mjs rebuilds core and alloc for size (-Zbuild-std).
if ! rustup component list --installed 2>/dev/null | grep -q '^rust-src'; then
  command -v rustup >/dev/null || die "rustup not found: the rust-src component must be installed (rustup component add rust-src)."
  say "adding Rust component rust-src (the standard library's source, for the size-optimised build)"
  rustup component add rust-src
fi

# 2. wasm-bindgen-cli at exactly the version of the wasm-bindgen crate in Cargo.lock.
want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
[ -n "$want" ] || die "could not read the wasm-bindgen version from Cargo.lock"
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have" != "$want" ]; then
  say "installing wasm-bindgen-cli $want (found: ${have:-none}); this takes about 2-3 minutes on 2 cores"
  # `--locked` fails on this registry mirror (the CLI's lockfile names a webpki-roots release the mirror
  # lacks), so resolve afresh; the exact --version keeps the CLI in step with the crate.
  if ! cargo install wasm-bindgen-cli --version "$want" --force; then
    say "plain install failed; trying the unpacked crate with webpki-roots pinned to 1.0.10"
    crate=$(ls "${CARGO_HOME:-$HOME/.cargo}"/registry/cache/*/wasm-bindgen-cli-"$want".crate 2>/dev/null | head -n1)
    [ -n "$crate" ] || die "wasm-bindgen-cli $want could not be installed and is not in the cargo cache"
    tmp=$(mktemp -d); tar -xzf "$crate" -C "$tmp"
    (cd "$tmp/wasm-bindgen-cli-$want" && cargo update -p webpki-roots --precise 1.0.10 && cargo install --path . --locked --force)
  fi
  have=$(wasm-bindgen --version | awk '{print $2}')
  [ "$have" = "$want" ] || die "wasm-bindgen-cli is $have, Cargo.lock wants $want"
fi

# 3. npm packages (the local OpenID Provider, esbuild, binaryen's wasm-opt, playwright-core, typescript).
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ] || [ package.json -nt node_modules/.package-lock.json ]; then
  say "installing npm packages"
  if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
fi

# 4. A browser for the tests: Debian's Chromium and its ChromeDriver.
if [ "${1:-}" = "--browser" ]; then
  if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      say "installing Debian packages chromium and chromium-driver"
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
    else
      die "the tests need Chromium and ChromeDriver: run 'sudo apt-get install chromium chromium-driver' (Debian/Ubuntu), or set CHROMIUM=/path/to/chrome and CHROMEDRIVER=/path/to/chromedriver."
    fi
  fi
fi
say "ready"
