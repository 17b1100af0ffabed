// The size floor: what the protocol code alone weighs in wasm. Builds the crate with src/wasm.rs replaced by
// bench/size-floor/floor.rs — every protocol step of the default module's flows as its own raw export, with
// no machine, effects, executor or futures — exactly as scripts/build.mjs builds the default module
// (default features, -Zbuild-std=core,alloc, panic=immediate-abort, `wasm-opt -Oz`), and measures it.
// The difference between the default module and the floor is what driving the steps in Rust costs (the
// machine, the flows as async fns, the effects). The JavaScript that would drive the floor's steps (the
// order of the steps, the I/O, the tabs) is not written, so not counted.
// A copy of the crate is built under target/size-floor/, so the working tree is never touched.

import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { sizesOf } from './build.mjs';
import { WASM_BUILD_ARGS, wasmBuildEnv } from '../scripts/wasm-build.mjs';

export function buildFloor(root, log = console.log) {
  const dir = join(root, 'target', 'size-floor');
  const crate = join(dir, 'crate');
  rmSync(crate, { recursive: true, force: true });
  mkdirSync(crate, { recursive: true });
  for (const f of ['Cargo.toml', 'Cargo.lock', 'src']) cpSync(join(root, f), join(crate, f), { recursive: true });
  cpSync(join(root, 'bench', 'size-floor', 'floor.rs'), join(crate, 'src', 'wasm.rs'));
  log('building the size floor (bench/size-floor/floor.rs in place of src/wasm.rs; -Zbuild-std, as scripts/wasm-build.mjs builds every module)');
  execFileSync('cargo', [...WASM_BUILD_ARGS, '--target-dir', join(dir, 'target')],
    { cwd: crate, stdio: ['ignore', 'ignore', 'inherit'], env: wasmBuildEnv() });
  const out = join(dir, 'out');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const built = join(dir, 'target', 'wasm32-unknown-unknown', 'release', 'oidc_wasm.wasm');
  cpSync(built, join(out, 'floor.wasm'));
  execFileSync(join(root, 'node_modules', '.bin', 'wasm-opt'), ['-Oz', built, '-o', join(out, 'opt.wasm')], { stdio: 'inherit' });
  const breakdown = JSON.parse(execFileSync('python3', [join(root, 'bench', 'wasm-sizes.py'), join(out, 'floor.wasm'), '10', '--json'], { encoding: 'utf8' }));
  return { wasm: sizesOf(readFileSync(join(out, 'opt.wasm'))), breakdown };
}
