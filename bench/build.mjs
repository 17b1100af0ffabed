// Builds what the benchmark serves and measures the sizes (bench/run.mjs calls it).
//
//   bench/out/<lib>/app.js         bench/apps/<lib>.js bundled by `esbuild --bundle --minify --format=esm`
//   bench/out/oidc-wasm/oidc_wasm_bg.wasm   dist/oidc_wasm_bg.wasm (wasm-opt -Oz output of scripts/build.mjs)
//   bench/out/verify/app.js, core.wasm      the verification page and the core it drives (see pages/verify.js)

import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { buildFloor } from './size-floor.mjs';

export const LIBS = ['oidc-wasm', 'oidc-client-ts', 'auth0-spa-js', 'oauth4webapi'];

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

/** Does Cargo.toml declare the `bench` feature (the core's verifyIdTokenForBenchmark export)? */
function hasBenchFeature(root) {
  const toml = readFileSync(join(root, 'Cargo.toml'), 'utf8');
  const features = toml.split(/^\[features\]\s*$/m)[1]?.split(/^\[/m)[0] ?? '';
  return /^bench\s*=/m.test(features);
}

export function buildAll(root, log = console.log) {
  const out = join(root, 'bench', 'out');
  rmSync(out, { recursive: true, force: true });
  for (const f of ['dist/index.js', 'dist/oidc_wasm_bg.wasm', 'build/wasm/oidc_wasm.js', 'build/wasm/oidc_wasm_bg.wasm']) {
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
    }
    sizes[lib] = { js, wasm };
  }

  // 2. What takes the bytes in the wasm: the pre-wasm-opt build still has its name section.
  const breakdown = JSON.parse(execFileSync('python3', [join(root, 'bench', 'wasm-sizes.py'), join(root, 'build', 'wasm', 'oidc_wasm_bg.wasm'), '15', '--json'], { encoding: 'utf8' }));
  const shippedWasm = sizesOf(readFileSync(join(root, 'dist', 'oidc_wasm_bg.wasm')));
  const unoptimizedWasm = sizesOf(readFileSync(join(root, 'build', 'wasm', 'oidc_wasm_bg.wasm')));

  // 3. The verification page: with the core's benchmark hook when the crate has the `bench` feature
  //    (built here into target/bench, never into dist/), else the shipped core.
  mkdirSync(join(out, 'verify'), { recursive: true });
  let core = { glue: join(root, 'build', 'wasm', 'oidc_wasm.js'), wasm: join(root, 'dist', 'oidc_wasm_bg.wasm'), hook: false };
  if (hasBenchFeature(root)) {
    log('building the core with the `bench` feature (target/bench) for the verification hook');
    execFileSync('cargo', ['build', '--release', '--target', 'wasm32-unknown-unknown', '--lib', '--features', 'bench', '--target-dir', 'target/bench'], { cwd: root, stdio: 'inherit' });
    const dir = join(out, 'core-bench');
    execFileSync('wasm-bindgen', ['target/bench/wasm32-unknown-unknown/release/oidc_wasm.wasm', '--out-dir', dir, '--target', 'web'], { cwd: root, stdio: 'inherit' });
    execFileSync(join(root, 'node_modules', '.bin', 'wasm-opt'), ['-Oz', join(dir, 'oidc_wasm_bg.wasm'), '-o', join(dir, 'oidc_wasm_bg.opt.wasm')], { cwd: root, stdio: 'inherit' });
    core = { glue: join(dir, 'oidc_wasm.js'), wasm: join(dir, 'oidc_wasm_bg.opt.wasm'), hook: true };
  }
  copyFileSync(core.wasm, join(out, 'verify', 'core.wasm'));
  esbuild(root, ['bench/pages/verify.js', '--bundle', '--minify', '--format=esm', '--outfile=bench/out/verify/app.js', `--alias:oidc-wasm-core=${core.glue}`]);

  // 4. The size floor: the protocol steps alone (bench/size-floor.mjs).
  let floor;
  try {
    floor = buildFloor(root, log);
  } catch (e) {
    floor = { error: String(e?.message ?? e).split('\n')[0] };
  }

  return { sizes, breakdown, shippedWasm, unoptimizedWasm, coreHook: core.hook, floor };
}
