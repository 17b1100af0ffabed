// Fails when a built core links Rust's formatting machinery: `core::fmt` (Formatter, Display, Debug) and
// the formatted-panic path are the largest avoidable code in a wasm module (about 15 kB), and one
// `format!`, `{:?}`, `.unwrap()` or slice index in the shipped core brings them back. Reads the names
// section of the unoptimised modules that scripts/build.mjs keeps in build/wasm/.
//   node scripts/check-size.mjs [module.wasm ...]
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const FORBIDDEN = /core::fmt::|Formatter|panic_fmt|panic_bounds_check|unwrap_failed|expect_failed|slice_index_fail|slice_start_index|slice_end_index/;

/** The function names of a module's `name` custom section (subsection 1). */
export function functionNames(buf) {
  let p = 8;
  const leb = () => {
    let r = 0, shift = 0, b;
    do { b = buf[p++]; r += (b & 0x7f) * 2 ** shift; shift += 7; } while (b & 0x80);
    return r;
  };
  const names = [];
  while (p < buf.length) {
    const id = buf[p++];
    const size = leb();
    const end = p + size;
    if (id === 0) {
      const len = leb();
      const name = buf.toString('utf8', p, p + len);
      p += len;
      if (name === 'name') {
        while (p < end) {
          const sub = buf[p++];
          const subSize = leb();
          const subEnd = p + subSize;
          if (sub === 1) {
            for (let n = leb(); n > 0; n--) {
              leb();
              const l = leb();
              names.push(buf.toString('utf8', p, p + l));
              p += l;
            }
          }
          p = subEnd;
        }
      }
    }
    p = end;
  }
  return names;
}

const files = process.argv.slice(2);
const modules = files.length ? files : ['build/wasm/oidc_wasm_bg.wasm', 'build/wasm/oidc_wasm_full_bg.wasm'].map((f) => join(root, f));
let failed = false;
for (const file of modules) {
  const names = functionNames(readFileSync(file));
  if (names.length === 0) {
    console.error(`check-size: ${file} has no names section to check`);
    failed = true;
    continue;
  }
  const bad = names.filter((n) => FORBIDDEN.test(n));
  if (bad.length) {
    failed = true;
    console.error(`check-size: ${file} links Rust's formatting machinery (${bad.length} functions), e.g.:\n  ${bad.slice(0, 8).join('\n  ')}\n` +
      'Something in the shipped core formats or panics with a message: find the caller with `twiggy paths <module> <name>`.');
  } else {
    console.log(`check-size: ${file.replace(`${root}/`, '')}: ${names.length} functions, none from core::fmt or a formatted panic`);
  }
}
process.exit(failed ? 1 : 0);
