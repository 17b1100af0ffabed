// Builds what the benchmark serves and measures the sizes (bench/run.mjs calls it).
//
//   bench/out/<lib>/app.js                  bench/apps/<lib>.js bundled by `esbuild --bundle --minify --format=esm`
//   bench/out/oidc-wasm/oidc_wasm_bg.wasm   dist/oidc_wasm_bg.wasm, the default module (the minimal app uses no
//                                           dpop, sealed session or trace, so js/index.ts loads this one)
//   bench/out/verify/app.js, core.wasm      the verification page and the core it drives (see pages/verify.js):
//                                           the default module built with the `bench` feature into target/bench
//
// Sizes: the minimal app's bundle + the default module, and the same bundle + dist/oidc_wasm_full_bg.wasm
// (cargo feature `full`: dpop + sealed + trace), which an app asking for any of those loads instead.

import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { buildFloor } from './size-floor.mjs';
import { WASM_BUILD_ARGS, wasmBuildEnv } from '../scripts/wasm-build.mjs';

export const LIBS = ['oidc-wasm', 'oidc-client-ts', 'auth0-spa-js', 'oauth4webapi'];
/** The size table's extra row: the same app with the module that has every optional feature. */
export const FULL = 'oidc-wasm (every feature)';

export function sizesOf(buf) {
  return {
    raw: buf.length,
    gzip: gzipSync(buf, { level: 9 }).length,
    brotli: brotliCompressSync(buf, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: buf.length } }).length,
  };
}

function esbuild(root, args) {
  execFileSync(join(root, 'node_modules', '.bin', 'esbuild'), [...args, '--log-level=warning'], { cwd: root, stdio: 'inherit' });
}

/** Does Cargo.toml declare the `bench` feature (the machine's `verifyIdToken` method)? */
function hasBenchFeature(root) {
  const toml = readFileSync(join(root, 'Cargo.toml'), 'utf8');
  const features = toml.split(/^\[features\]\s*$/m)[1]?.split(/^\[/m)[0] ?? '';
  return /^bench\s*=/m.test(features);
}

const REQUIRED = ['dist/index.js', 'dist/oidc_wasm_bg.wasm', 'dist/oidc_wasm_full_bg.wasm', 'build/wasm/oidc_wasm_bg.wasm', 'build/wasm/oidc_wasm_full_bg.wasm'];

export function buildAll(root, log = console.log) {
  const out = join(root, 'bench', 'out');
  rmSync(out, { recursive: true, force: true });
  for (const f of REQUIRED) {
    if (!existsSync(join(root, f))) throw new Error(`${f} is missing: build the SDK first (node scripts/build.mjs)`);
  }

  // 1. The minimal apps, bundled exactly as the size table says.
  const sizes = {};
  for (const lib of LIBS) {
    mkdirSync(join(out, lib), { recursive: true });
    esbuild(root, [`bench/apps/${lib}.js`, '--bundle', '--minify', '--format=esm', `--outfile=bench/out/${lib}/app.js`]);
    const js = sizesOf(readFileSync(join(out, lib, 'app.js')));
    let wasm = null;
    if (lib === 'oidc-wasm') {
      copyFileSync(join(root, 'dist', 'oidc_wasm_bg.wasm'), join(out, lib, 'oidc_wasm_bg.wasm'));
      wasm = sizesOf(readFileSync(join(out, lib, 'oidc_wasm_bg.wasm')));
      sizes[lib] = { js, wasm };
      // The same app with `dpop`, `persistSession: 'sealed'` or `trace` in its config: the same bundle (js/index.ts
      // is one module whichever core it loads) and the full module instead of the default one.
      sizes[FULL] = { js, wasm: sizesOf(readFileSync(join(root, 'dist', 'oidc_wasm_full_bg.wasm'))) };
      continue;
    }
    sizes[lib] = { js, wasm };
  }

  // 2. What takes the bytes in the wasm: the pre-wasm-opt builds still have their name section. The default
  //    module by crate, by module and its largest functions; what the full module adds, by name.
  const breakdown = JSON.parse(execFileSync('python3', [join(root, 'bench', 'wasm-sizes.py'), join(root, 'build', 'wasm', 'oidc_wasm_bg.wasm'), '15', '--json',
    '--diff', join(root, 'build', 'wasm', 'oidc_wasm_full_bg.wasm')], { encoding: 'utf8' }));
  const shippedWasm = sizesOf(readFileSync(join(root, 'dist', 'oidc_wasm_bg.wasm')));
  const shippedFullWasm = sizesOf(readFileSync(join(root, 'dist', 'oidc_wasm_full_bg.wasm')));
  const unoptimizedWasm = sizesOf(readFileSync(join(root, 'build', 'wasm', 'oidc_wasm_bg.wasm')));

  // 3. The verification page: the default module with the `bench` feature (the machine's `verifyIdToken`
  //    method), built as scripts/build.mjs builds dist/ (-Zbuild-std, panic=immediate-abort, wasm-opt -Oz) but
  //    into target/bench, never into dist/. Without the feature, the shipped module (timed through `callback`).
  mkdirSync(join(out, 'verify'), { recursive: true });
  let core = { wasm: join(root, 'dist', 'oidc_wasm_bg.wasm'), hook: false };
  if (hasBenchFeature(root)) {
    log('building the core with the `bench` feature (target/bench) for the verification hook');
    execFileSync('cargo', [...WASM_BUILD_ARGS, '--features', 'bench', '--target-dir', 'target/bench'], { cwd: root, stdio: 'inherit', env: wasmBuildEnv() });
    const opt = join(root, 'target', 'bench', 'oidc_wasm_bench.opt.wasm');
    execFileSync(join(root, 'node_modules', '.bin', 'wasm-opt'), ['-Oz', join(root, 'target', 'bench', 'wasm32-unknown-unknown', 'release', 'oidc_wasm.wasm'), '-o', opt], { cwd: root, stdio: 'inherit' });
    core = { wasm: opt, hook: true };
  }
  copyFileSync(core.wasm, join(out, 'verify', 'core.wasm'));
  esbuild(root, ['bench/pages/verify.js', '--bundle', '--minify', '--format=esm', '--outfile=bench/out/verify/app.js']);

  // 4. The size floor: the protocol steps alone (bench/size-floor.mjs).
  let floor;
  try {
    floor = buildFloor(root, log);
  } catch (e) {
    floor = { error: String(e?.message ?? e).split('\n')[0] };
  }

  return { sizes, breakdown, shippedWasm, shippedFullWasm, unoptimizedWasm, coreHook: core.hook, floor };
}
