#!/usr/bin/env bash
# `npm test`: builds everything and runs every test, from a fresh clone. Steps:
#   1. setup (Rust target, wasm-bindgen-cli, npm packages, Chromium + ChromeDriver)
#   2. build dist/: both cores, no formatting code in either (scripts/check-size.mjs), the gzip sizes
#   3. native Rust tests            cargo test (default and --features full), then clippy (panic-free core)
#   4. fuzz smoke run (cargo fuzz, 10 s per target; FUZZ_SECONDS to change)
#   5. wasm tests in headless Chromium (WebCrypto verification through the real browser host)
#   5b. unit tests of the TypeScript layer (the route guards' decision, the vue-router guard)
#   6. end-to-end: real logins in headless Chromium against a local oidc-provider on 127.0.0.1
#   7. conformance: a hostile provider serving each OpenID Foundation RP case and JOSE attack
#   8. providers: simulated Keycloak, Auth0, Entra ID, Okta, Cognito, Google, Ping, Zitadel, Authentik
#   9. consumers: the packed package in Vite (React, Vue), webpack 5, a script tag, and tsc
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "setup"
bash scripts/setup.sh --browser
export CHROMEDRIVER="${CHROMEDRIVER:-$(command -v chromedriver)}"
export CHROMIUM="${CHROMIUM:-$(command -v chromium)}"

step "build"
node scripts/build.mjs

step "native tests (cargo test): the default core, then with every feature (dpop, sealed, trace)"
cargo test --lib --tests
cargo test --lib --tests --features full

step "lint: no unwrap/expect/indexing/panic in the shipped core (cargo clippy)"
cargo clippy --lib --target wasm32-unknown-unknown -- -D warnings
cargo clippy --lib --target wasm32-unknown-unknown --features full -- -D warnings

step "fuzz smoke run: every parser of provider and URL input, 10 s each (scripts/fuzz-smoke.sh)"
FUZZ_SECONDS="${FUZZ_SECONDS:-10}" bash scripts/fuzz-smoke.sh

step "wasm tests in headless Chromium"
node_modules/.bin/esbuild js/host.ts --format=esm --target=es2020 --outfile=build/test-host.js --log-level=warning
# The runner is wasm-bindgen-test-runner (.cargo/config.toml); it reads webdriver.json for Chrome flags.
WASM_BINDGEN_TEST_TIMEOUT=60 cargo test --target wasm32-unknown-unknown --lib --features full

step "unit tests of the TypeScript layer (node --test tests/unit/: the route guards)"
node --test tests/unit/

step "end-to-end tests (headless Chromium, local OpenID Provider)"
node --test --test-concurrency=1 --test-timeout=300000 tests/e2e/

step "conformance: the OpenID Foundation RP cases and JOSE attacks against a hostile provider"
node --test --test-concurrency=1 --test-timeout=900000 tests/conformance/

step "providers: a simulated profile of each real provider, signed in with the README's recipe"
node --test --test-concurrency=1 --test-timeout=600000 tests/providers/

step "consumers: npm pack -> Vite React/Vue, webpack 5, script tag, tsc; sign-ins in headless Chromium"
node --test --test-concurrency=1 --test-timeout=900000 tests/consumers/

step "all tests passed"
