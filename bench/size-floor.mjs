// The size floor: what the protocol code alone weighs in wasm. Builds the crate with src/wasm.rs replaced by
// bench/size-floor/floor.rs (the protocol steps as synchronous exports, no orchestration, no DPoP, sealing
// or trace), through the same wasm-bindgen + `wasm-opt -Oz` as the shipped build, and measures it.
// A copy of the crate is built under target/size-floor/, so the working tree is never touched.

import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { sizesOf } from './build.mjs';

export function buildFloor(root, log = console.log) {
  const dir = join(root, 'target', 'size-floor');
  const crate = join(dir, 'crate');
  rmSync(crate, { recursive: true, force: true });
  mkdirSync(crate, { recursive: true });
  for (const f of ['Cargo.toml', 'Cargo.lock', 'src']) cpSync(join(root, f), join(crate, f), { recursive: true });
  cpSync(join(root, 'bench', 'size-floor', 'floor.rs'), join(crate, 'src', 'wasm.rs'));
  log('building the size floor (bench/size-floor/floor.rs in place of src/wasm.rs)');
  execFileSync('cargo', ['build', '--release', '--target', 'wasm32-unknown-unknown', '--lib', '--target-dir', join(dir, 'target')],
    { cwd: crate, stdio: ['ignore', 'ignore', 'inherit'] });
  const out = join(dir, 'out');
  rmSync(out, { recursive: true, force: true });
  execFileSync('wasm-bindgen', [join(dir, 'target', 'wasm32-unknown-unknown', 'release', 'oidc_wasm.wasm'), '--out-dir', out, '--target', 'web'], { stdio: 'inherit' });
  execFileSync(join(root, 'node_modules', '.bin', 'wasm-opt'), ['-Oz', join(out, 'oidc_wasm_bg.wasm'), '-o', join(out, 'opt.wasm')], { stdio: 'inherit' });
  execFileSync(join(root, 'node_modules', '.bin', 'esbuild'), [join(out, 'oidc_wasm.js'), '--minify', '--format=esm', `--outfile=${join(out, 'glue.min.js')}`, '--log-level=warning'], { stdio: 'inherit' });
  return { wasm: sizesOf(readFileSync(join(out, 'opt.wasm'))), glue: sizesOf(readFileSync(join(out, 'glue.min.js'))) };
}
