// How the wasm modules are built: the cargo command and its environment, shared by scripts/build.mjs (the
// shipped modules) and the benchmark's builds that must be made the same way (bench/build.mjs's module with
// the `bench` feature, bench/size-floor.mjs's floor). The standard library is compiled for size with
// `-Zbuild-std`, an unstable cargo flag, through RUSTC_BOOTSTRAP on the stable toolchain (and the rust-src
// component, which scripts/setup.sh adds), and `panic = immediate-abort` makes a panic trap at once, so
// none of core's formatting machinery is linked (scripts/check-size.mjs).

/** `cargo` arguments; add `--features …` and `--target-dir …`. */
export const WASM_BUILD_ARGS = ['build', '--release', '--target', 'wasm32-unknown-unknown', '--lib', '-Zbuild-std=core,alloc'];

/** The environment for them: this process's, with the bootstrap switch and the panic strategy. */
export function wasmBuildEnv() {
  return { ...process.env, RUSTC_BOOTSTRAP: '1', RUSTFLAGS: `${process.env.RUSTFLAGS ?? ''} -Zunstable-options -Cpanic=immediate-abort`.trim() };
}
