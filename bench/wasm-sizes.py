#!/usr/bin/env python3
"""Lists the largest functions of a wasm module by body size, using its name section (like `twiggy top`),
and with --by-crate the code size per Rust crate (generic code counts in the crate that defines it, as in
twiggy; wasm-bindgen's export shims and glue count as wasm_bindgen).
Usage: python3 bench/wasm-sizes.py build/wasm/oidc_wasm_bg.wasm [N] [--by-crate] [--json]"""
import json
import re
import sys

PLACEHOLDERS = {'str', 'char', 'bool', 'u8', 'u16', 'u32', 'u64', 'u128', 'usize', 'i8', 'i16', 'i32', 'i64',
                'i128', 'isize', 'f32', 'f64', 'impl', 'dyn', 'mut', 'const'}
PATH = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)(?:\[[0-9a-f]+\])?::')

def crate_of(name):
    """The crate a (demangled) function name belongs to."""
    if (name.startswith(('__wbindgen', '__wbg', '__externref', 'wasm_bindgen', 'Closure(', 'Ref(')) or 'shim' in name
            or re.match(r'^core_[a-zA-Z]+$', name)):
        return 'wasm_bindgen'  # glue and the generated export shims (core_login = Core::login's shim)
    if name.startswith('__rustc') or name in ('memcpy', 'memmove', 'memset', 'memcmp', 'bcmp', 'fmax', 'fmin'):
        return 'compiler_builtins'
    if re.match(r'^<(str|char|\[T\]|u8)>::', name):
        return 'core'  # inherent methods of primitive types live in core
    for m in PATH.finditer(name):
        ident = m.group(1)
        if ident in PLACEHOLDERS or re.fullmatch(r'[A-Z]', ident):
            continue
        return ident
    return '(other)'

def leb(b, i):
    r = s = 0
    while True:
        x = b[i]; i += 1
        r |= (x & 0x7f) << s; s += 7
        if x < 0x80:
            return r, i

def main(path, top, by_crate=False, as_json=False):
    b = open(path, 'rb').read()
    i = 8; imports = 0; bodies = []; names = {}; sections = {}
    while i < len(b):
        sid = b[i]; i += 1
        size, i = leb(b, i); end = i + size
        sections[sid] = sections.get(sid, 0) + size
        if sid == 2:  # imports: count function imports
            n, j = leb(b, i)
            for _ in range(n):
                l, j = leb(b, j); j += l
                l, j = leb(b, j); j += l
                kind = b[j]; j += 1
                if kind == 0: _, j = leb(b, j); imports += 1
                elif kind == 1: j += 1; fl, j = leb(b, j); _, j = leb(b, j); j = leb(b, j)[1] if fl & 1 else j
                elif kind == 2: fl, j = leb(b, j); _, j = leb(b, j); j = leb(b, j)[1] if fl & 1 else j
                elif kind == 3: j += 2
        elif sid == 10:
            n, j = leb(b, i)
            for _ in range(n):
                l, j = leb(b, j); bodies.append(l); j += l
        elif sid == 0:
            l, j = leb(b, i); name = b[j:j + l].decode(); j += l
            if name == 'name':
                while j < end:
                    sub = b[j]; j += 1
                    sl, j = leb(b, j); se = j + sl
                    if sub == 1:
                        n, k = leb(b, j)
                        for _ in range(n):
                            idx, k = leb(b, k); l, k = leb(b, k); names[idx] = b[k:k + l].decode(errors='replace'); k += l
                    j = se
        i = end
    total = sum(bodies)
    rows = sorted(((s, names.get(imports + k, f'func[{imports + k}]')) for k, s in enumerate(bodies)), reverse=True)
    crates = {}
    for s, n in rows:
        c = crates.setdefault(crate_of(n), [0, 0])
        c[0] += s
        c[1] += 1
    crate_rows = sorted(((v[0], v[1], k) for k, v in crates.items()), reverse=True)
    if as_json:
        print(json.dumps({
            'file': path, 'bytes': len(b), 'code': total, 'functions': len(bodies), 'data': sections.get(11, 0),
            'custom': sections.get(0, 0), 'named': len(names) > 0,
            'top': [{'bytes': s, 'name': n} for s, n in rows[:top]],
            'crates': [{'crate': k, 'bytes': s, 'functions': f} for s, f, k in crate_rows],
        }))
        return
    print(f'{path}: {len(b)} B; code {total} B in {len(bodies)} functions; data {sections.get(11, 0)} B')
    for s, n in rows[:top]:
        print(f'{s:8d} {100 * s / total:5.1f}%  {n[:150]}')
    if by_crate:
        print('by crate:')
        for s, f, k in crate_rows:
            print(f'{s:8d} {100 * s / total:5.1f}%  {k} ({f} functions)')

args = [a for a in sys.argv[1:] if not a.startswith('--')]
main(args[0], int(args[1]) if len(args) > 1 else 30, '--by-crate' in sys.argv, '--json' in sys.argv)
