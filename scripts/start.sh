#!/usr/bin/env bash
# `npm start`: install/check the toolchain, build the SDK into dist/, then run the local OpenID Provider
# and the flow-explorer sample app (examples/dev.mjs) until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh && node scripts/build.mjs && node examples/dev.mjs
