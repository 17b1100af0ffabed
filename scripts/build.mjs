// Builds the SDK into dist/: the Rust core to wasm (cargo, wasm-bindgen, wasm-opt), the TypeScript
// wrapper bundled with the wasm-bindgen glue (esbuild) as an ES module and as a script-tag build, the
// React and Vue entry points, the type declarations (tsc), and prints the size of what ships.
// Run through `npm run build` (which runs scripts/setup.sh first).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { gzipSync, brotliCompressSync, constants } from 'node:zlib';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit' });
// `process.env.NODE_ENV` stays as written, for the app's bundler to replace (the `debug` option's default);
// esbuild's minifier would otherwise make it "production" here.
const esbuild = (args) => run(bin('esbuild'), ['--bundle', '--minify', '--target=es2020', '--legal-comments=none', '--log-level=warning',
  '--define:process.env.NODE_ENV=process.env.NODE_ENV', ...args]);

run('cargo', ['build', '--release', '--target', 'wasm32-unknown-unknown', '--lib']);
rmSync(join(root, 'build/wasm'), { recursive: true, force: true });
run('wasm-bindgen', ['target/wasm32-unknown-unknown/release/oidc_wasm.wasm', '--out-dir', 'build/wasm', '--target', 'web']);

rmSync(join(root, 'dist'), { recursive: true, force: true });
mkdirSync(join(root, 'dist'));
run(bin('wasm-opt'), ['-Oz', 'build/wasm/oidc_wasm_bg.wasm', '-o', 'dist/oidc_wasm_bg.wasm']);

// ES module for bundlers and <script type="module">.
esbuild(['js/index.ts', '--format=esm', '--outfile=dist/index.js']);
// Script-tag build: defines the global `OidcWasm` and finds the wasm beside its own script.
esbuild(['js/global.ts', '--format=iife', '--global-name=OidcWasm', '--outfile=dist/oidc-wasm.global.js',
  '--define:import.meta.url=__oidcWasmScript',
  '--banner:js=var __oidcWasmScript=typeof document!=="undefined"&&document.currentScript&&document.currentScript.src||"";']);
// Framework bindings: thin, with the framework and the core left as imports.
for (const [entry, out] of [['js/react.ts', 'dist/react.js'], ['js/vue.ts', 'dist/vue.js']]) {
  if (existsSync(join(root, entry))) {
    esbuild([entry, '--format=esm', `--outfile=${out}`, '--external:react', '--external:vue', '--external:./index.js']);
  }
}
run(bin('tsc'), ['-p', 'tsconfig.json']);

const sizes = ['dist/index.js', 'dist/oidc_wasm_bg.wasm'].map((f) => {
  const buf = readFileSync(join(root, f));
  return {
    file: f,
    raw: statSync(join(root, f)).size,
    gzip: gzipSync(buf, { level: 9 }).length,
    brotli: brotliCompressSync(buf, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
  };
});
const total = sizes.reduce((t, s) => ({ raw: t.raw + s.raw, gzip: t.gzip + s.gzip, brotli: t.brotli + s.brotli }), { raw: 0, gzip: 0, brotli: 0 });
console.log('\nbuilt dist/:');
for (const s of [...sizes, { file: 'total (JS + wasm)', ...total }]) {
  console.log(`  ${s.file.padEnd(24)} ${String(s.raw).padStart(7)} B raw  ${String(s.gzip).padStart(6)} B gzip -9  ${String(s.brotli).padStart(6)} B brotli`);
}
