// Builds the SDK into dist/: the Rust core to wasm (cargo, wasm-opt), the TypeScript wrapper and its
// hand-written glue (esbuild) as an ES module and as a script-tag build, the
// React and Vue entry points, the type declarations (tsc), and prints the size of what ships.
// Run through `npm run build` (which runs scripts/setup.sh first).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { gzipSync, brotliCompressSync, constants } from 'node:zlib';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WASM_BUILD_ARGS, wasmBuildEnv } from './wasm-build.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit' });
// `process.env.NODE_ENV` stays as written, for the app's bundler to replace (the `debug` option's default);
// esbuild's minifier would otherwise make it "production" here.
const esbuild = (args) => run(bin('esbuild'), ['--bundle', '--minify', '--target=es2020', '--legal-comments=none', '--log-level=warning',
  '--define:process.env.NODE_ENV=process.env.NODE_ENV', ...args]);

// Two modules, with raw exports and imports (no wasm-bindgen: js/core.ts is their glue): the default one,
// and the full one with DPoP, sealed sessions and the learning trace (cargo feature `full`), which
// js/core.ts loads only when the config asks for one of them. Both are built with the standard library
// compiled for size and `panic = immediate-abort` (scripts/wasm-build.mjs), so none of core's formatting
// machinery is linked (scripts/check-size.mjs fails the build if a formatting symbol appears).
rmSync(join(root, 'dist'), { recursive: true, force: true });
mkdirSync(join(root, 'dist'));
mkdirSync(join(root, 'build/wasm'), { recursive: true });
for (const [features, out] of [[[], 'oidc_wasm_bg.wasm'], [['--features', 'full'], 'oidc_wasm_full_bg.wasm']]) {
  execFileSync('cargo', [...WASM_BUILD_ARGS, ...features, '--target-dir', 'target/size'], { cwd: root, stdio: 'inherit', env: wasmBuildEnv() });
  const built = 'target/size/wasm32-unknown-unknown/release/oidc_wasm.wasm';
  // Kept for the size report (bench/wasm-sizes.py reads the names section of the unoptimised module).
  execFileSync('cp', [built, `build/wasm/${out}`], { cwd: root });
  run(bin('wasm-opt'), ['-Oz', built, '-o', `dist/${out}`]);
}

// No formatting machinery in either module (see scripts/check-size.mjs).
run('node', ['scripts/check-size.mjs']);

// ES module for bundlers and <script type="module">.
esbuild(['js/index.ts', '--format=esm', '--outfile=dist/index.js']);
// Script-tag build: defines the global `OidcWasm` and finds the wasm beside its own script.
esbuild(['js/global.ts', '--format=iife', '--global-name=OidcWasm', '--outfile=dist/oidc-wasm.global.js',
  '--define:import.meta.url=__oidcWasmScript',
  '--banner:js=var __oidcWasmScript=typeof document!=="undefined"&&document.currentScript&&document.currentScript.src||"";']);
// Framework bindings: thin, with the framework and the core left as imports. The React one is marked
// 'use client' (React Server Components: its provider and hooks run in the browser), so a Next.js server
// layout may render <AuthProvider config={...}> itself; bundlers without server components ignore it.
for (const [entry, out, banner] of [['js/react.ts', 'dist/react.js', ['--banner:js="use client";']], ['js/vue.ts', 'dist/vue.js', []]]) {
  if (existsSync(join(root, entry))) {
    esbuild([entry, '--format=esm', `--outfile=${out}`, '--external:react', '--external:vue', '--external:./index.js', ...banner]);
  }
}
run(bin('tsc'), ['-p', 'tsconfig.json']);

const sizes = ['dist/index.js', 'dist/oidc_wasm_bg.wasm', 'dist/oidc_wasm_full_bg.wasm'].map((f) => {
  const buf = readFileSync(join(root, f));
  return {
    file: f,
    raw: statSync(join(root, f)).size,
    gzip: gzipSync(buf, { level: 9 }).length,
    brotli: brotliCompressSync(buf, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
  };
});
const sum = (list) => list.reduce((t, s) => ({ raw: t.raw + s.raw, gzip: t.gzip + s.gzip, brotli: t.brotli + s.brotli }), { raw: 0, gzip: 0, brotli: 0 });
console.log('\nbuilt dist/:');
for (const s of [...sizes, { file: 'default (JS + wasm)', ...sum([sizes[0], sizes[1]]) }, { file: 'full (JS + full wasm)', ...sum([sizes[0], sizes[2]]) }]) {
  console.log(`  ${s.file.padEnd(24)} ${String(s.raw).padStart(7)} B raw  ${String(s.gzip).padStart(6)} B gzip -9  ${String(s.brotli).padStart(6)} B brotli`);
}
