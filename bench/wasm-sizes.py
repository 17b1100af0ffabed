#!/usr/bin/env python3
"""Lists the largest functions of a wasm module by body size, using its name section (like `twiggy top`);
with --by-crate, the code size per Rust crate and per module of oidc_wasm; with --diff OTHER.wasm, the
functions OTHER.wasm has that this one has not (by name), largest first.

Names: the shipped build (scripts/build.mjs: -Zbuild-std, target/size) has Rust v0-mangled names (`_RNv…`),
which the linker leaves as they are; this script demangles them itself (no rustfilt or c++filt needed).
Legacy names (`_ZN…`, demangled by the linker) and `#[no_mangle]` exports are read as they are.
Attribution: a function counts in the crate (and module) where it is defined — for a method, where its
`impl` block is; generic code counts in the crate that defines it (a `core` iterator adapter instantiated
for an oidc-wasm closure counts as `core`), as in twiggy. The raw exports (`oidc_alloc`, `oidc_handle`, …)
count as oidc_wasm's `wasm` module; rustc's allocator shims (`__rustc::…`) as alloc; `memcmp`, `fmin`… as
compiler_builtins; wasm-bindgen glue (older builds only) as wasm_bindgen.
Usage: python3 bench/wasm-sizes.py build/wasm/oidc_wasm_bg.wasm [N] [--by-crate] [--json] [--diff OTHER.wasm]"""
import json
import re
import sys

# --- Rust v0 symbol demangling (https://doc.rust-lang.org/rustc/symbol-mangling/v0.html) ------------------

B62 = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'
BASIC = {'a': 'i8', 'b': 'bool', 'c': 'char', 'd': 'f64', 'e': 'str', 'f': 'f32', 'h': 'u8', 'i': 'isize',
         'j': 'usize', 'l': 'i32', 'm': 'u32', 'n': 'i128', 'o': 'u128', 's': 'i16', 't': 'u16', 'u': '()',
         'v': '...', 'x': 'i64', 'y': 'u64', 'z': '!', 'p': '_'}
INTS = set('hmjtyoasilxn')


class V0:
    """A demangler for the text after `_R`. `path()` returns (display, definition path as a list)."""

    def __init__(self, s):
        self.s = s
        self.i = 0
        self.depth = 0

    def peek(self):
        return self.s[self.i] if self.i < len(self.s) else ''

    def next(self):
        c = self.peek()
        if not c:
            raise ValueError('end of symbol')
        self.i += 1
        return c

    def eat(self, c):
        if self.peek() == c:
            self.i += 1
            return True
        return False

    def b62(self):
        if self.eat('_'):
            return 0
        x = 0
        while True:
            c = self.next()
            if c == '_':
                return x + 1
            x = x * 62 + B62.index(c)

    def disambiguator(self):
        return self.b62() + 1 if self.eat('s') else 0

    def decimal(self):
        c = self.next()
        if not c.isdigit():
            raise ValueError('digit expected')
        x = int(c)
        if c != '0':
            while self.peek().isdigit():
                x = x * 10 + int(self.next())
        return x

    def ident(self):
        self.eat('u')  # punycode: left encoded
        n = self.decimal()
        self.eat('_')
        name = self.s[self.i:self.i + n]
        if len(name) != n:
            raise ValueError('short identifier')
        self.i += n
        return name

    def backref(self, parse):
        pos = self.b62()
        if pos >= self.i:
            raise ValueError('forward backref')
        self.depth += 1
        if self.depth > 64:
            raise ValueError('backrefs too deep')
        saved, self.i = self.i, pos
        try:
            return parse()
        finally:
            self.i = saved
            self.depth -= 1

    def path(self):
        c = self.next()
        if c == 'C':
            self.disambiguator()
            name = self.ident()
            return name, [name]
        if c == 'M':  # <T> (inherent impl): defined where the impl block is
            self.disambiguator()
            _, where = self.path()
            return f'<{self.type()}>', where
        if c == 'X':  # <T as Trait> (trait impl)
            self.disambiguator()
            _, where = self.path()
            t = self.type()
            trait, _ = self.path()
            return f'<{t} as {trait}>', where
        if c == 'Y':  # <T as Trait> (trait definition)
            t = self.type()
            trait, where = self.path()
            return f'<{t} as {trait}>', where
        if c == 'N':
            ns = self.next()
            inner, where = self.path()
            dis = self.disambiguator()
            name = self.ident()
            if ns.islower():
                return (f'{inner}::{name}' if name else inner), where + ([name] if name else [])
            kind = {'C': 'closure', 'S': 'shim'}.get(ns, ns)
            return f'{inner}::{{{kind}{":" + name if name else ""}#{dis}}}', where
        if c == 'I':
            inner, where = self.path()
            args = []
            while not self.eat('E'):
                a = self.generic_arg()
                if a is not None:
                    args.append(a)
            return (f'{inner}<{", ".join(args)}>' if args else inner), where
        if c == 'B':
            return self.backref(self.path)
        raise ValueError(f'path expected at {c!r}')

    def generic_arg(self):
        if self.eat('L'):
            self.b62()
            return None  # lifetimes are not shown
        if self.eat('K'):
            return self.const()
        return self.type()

    def type(self):
        c = self.next()
        if c in BASIC:
            return BASIC[c]
        if c == 'A':
            t = self.type()
            return f'[{t}; {self.const()}]'
        if c == 'S':
            return f'[{self.type()}]'
        if c == 'T':
            ts = []
            while not self.eat('E'):
                ts.append(self.type())
            return '(' + ', '.join(ts) + (',' if len(ts) == 1 else '') + ')'
        if c in 'RQ':
            if self.eat('L'):
                self.b62()
            return ('&' if c == 'R' else '&mut ') + self.type()
        if c in 'PO':
            return ('*const ' if c == 'P' else '*mut ') + self.type()
        if c == 'F':
            if self.eat('G'):
                self.b62()
            unsafe = self.eat('U')
            abi = ''
            if self.eat('K'):
                abi = 'C' if self.eat('C') else self.ident().replace('_', '-')
            args = []
            while not self.eat('E'):
                args.append(self.type())
            ret = self.type()
            sig = ('unsafe ' if unsafe else '') + (f'extern "{abi}" ' if abi else '') + 'fn(' + ', '.join(args) + ')'
            return sig + ('' if ret == '()' else f' -> {ret}')
        if c == 'D':
            if self.eat('G'):
                self.b62()
            traits = []
            while not self.eat('E'):
                trait, _ = self.path()
                binds = []
                while self.eat('p'):
                    name = self.ident()
                    binds.append(f'{name} = {self.type()}')
                traits.append(trait + (f'<{", ".join(binds)}>' if binds else ''))
            if self.eat('L'):
                self.b62()
            return 'dyn ' + ' + '.join(traits)
        if c == 'B':
            return self.backref(self.type)
        self.i -= 1
        return self.path()[0]

    def const(self):
        if self.eat('p'):
            return '_'
        if self.eat('B'):
            return self.backref(self.const)
        t = self.next()
        if t in INTS or t in 'bc':
            neg = self.eat('n')
            digits = ''
            while not self.eat('_'):
                digits += self.next()
            v = int(digits, 16) if digits else 0
            if t == 'b':
                return 'true' if v else 'false'
            if t == 'c':
                return repr(chr(v))
            return str(-v if neg else v)
        raise ValueError(f'const of kind {t!r}')


def demangle(name):
    """(display name, definition path as a list of identifiers or None)."""
    if not name.startswith('_R'):
        return name, None
    try:
        d = V0(name[2:])
        if d.peek().isdigit():
            d.decimal()  # encoding version
        display, where = d.path()
        return display, where
    except (ValueError, IndexError):
        return name, None


# --- attribution ------------------------------------------------------------------------------------------

PLACEHOLDERS = {'str', 'char', 'bool', 'u8', 'u16', 'u32', 'u64', 'u128', 'usize', 'i8', 'i16', 'i32', 'i64',
                'i128', 'isize', 'f32', 'f64', 'impl', 'dyn', 'mut', 'const'}
PATH = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)(?:\[[0-9a-f]+\])?::')


def place_of(raw, where):
    """(crate, module within the crate or '') of a function."""
    if where:
        crate = 'alloc' if where[0] == '__rustc' else where[0]  # __rustc: the allocator shims rustc generates
        return crate, (where[1] if len(where) > 1 else '')
    name = raw
    if name.startswith(('oidc_', 'floor_')):
        return 'oidc_wasm', 'wasm'  # the raw #[no_mangle] exports of src/wasm.rs (or of the size floor)
    if (name.startswith(('__wbindgen', '__wbg', '__externref', 'wasm_bindgen', 'Closure(', 'Ref('))
            or re.match(r'^core_[a-zA-Z]+$', name)):
        return 'wasm_bindgen', ''  # older builds: glue and the generated export shims
    if name.startswith(('__rustc', '__rust_', '__rg_', '__rdl_')):
        return 'alloc', ''  # the allocator shims
    if name in ('memcpy', 'memmove', 'memset', 'memcmp', 'bcmp', 'fmax', 'fmin') or name.startswith('__'):
        return 'compiler_builtins', ''
    if re.match(r'^<(&(mut )?)?(str|char|\[[A-Za-z0-9]+\]|u8|u16|u32|u64|usize|i32|i64|f64)>::', name):
        return 'core', ''  # inherent methods of primitive types live in core
    segs = [m.group(1) for m in PATH.finditer(name) if m.group(1) not in PLACEHOLDERS and not re.fullmatch(r'[A-Z]', m.group(1))]
    if segs:
        crate = segs[0]
        return crate, (segs[1] if len(segs) > 1 and crate == 'oidc_wasm' else '')
    return '(other)', ''


def leb(b, i):
    r = s = 0
    while True:
        x = b[i]
        i += 1
        r |= (x & 0x7f) << s
        s += 7
        if x < 0x80:
            return r, i


def read(path):
    """The module's function bodies as rows, and its section sizes."""
    b = open(path, 'rb').read()
    i = 8
    imports = 0
    bodies = []
    names = {}
    sections = {}
    while i < len(b):
        sid = b[i]
        i += 1
        size, i = leb(b, i)
        end = i + size
        sections[sid] = sections.get(sid, 0) + size
        if sid == 2:  # imports: count function imports
            n, j = leb(b, i)
            for _ in range(n):
                l, j = leb(b, j)
                j += l
                l, j = leb(b, j)
                j += l
                kind = b[j]
                j += 1
                if kind == 0:
                    _, j = leb(b, j)
                    imports += 1
                elif kind == 1:
                    j += 1
                    fl, j = leb(b, j)
                    _, j = leb(b, j)
                    j = leb(b, j)[1] if fl & 1 else j
                elif kind == 2:
                    fl, j = leb(b, j)
                    _, j = leb(b, j)
                    j = leb(b, j)[1] if fl & 1 else j
                elif kind == 3:
                    j += 2
        elif sid == 10:
            n, j = leb(b, i)
            for _ in range(n):
                l, j = leb(b, j)
                bodies.append(l)
                j += l
        elif sid == 0:
            l, j = leb(b, i)
            name = b[j:j + l].decode()
            j += l
            if name == 'name':
                while j < end:
                    sub = b[j]
                    j += 1
                    sl, j = leb(b, j)
                    se = j + sl
                    if sub == 1:
                        n, k = leb(b, j)
                        for _ in range(n):
                            idx, k = leb(b, k)
                            l, k = leb(b, k)
                            names[idx] = b[k:k + l].decode(errors='replace')
                            k += l
                    j = se
        i = end
    rows = []
    for k, s in enumerate(bodies):
        raw = names.get(imports + k, f'func[{imports + k}]')
        display, where = demangle(raw)
        crate, module = place_of(display if where is None else raw, where)
        rows.append({'bytes': s, 'name': display, 'crate': crate, 'module': module})
    rows.sort(key=lambda r: -r['bytes'])
    return {'file': path, 'bytes': len(b), 'code': sum(bodies), 'functions': len(bodies), 'data': sections.get(11, 0),
            'custom': sections.get(0, 0), 'named': len(names) > 0, 'rows': rows}


def group(rows, key):
    out = {}
    for r in rows:
        k = key(r)
        if k is None:
            continue
        g = out.setdefault(k, [0, 0])
        g[0] += r['bytes']
        g[1] += 1
    return sorted(((v[0], v[1], k) for k, v in out.items()), reverse=True)


# A function's identity across two builds: its name without closure/shim numbers and hashes.
def identity(name):
    return re.sub(r'#\d+\}', '}', name)


def main(path, top, by_crate=False, as_json=False, diff=None):
    m = read(path)
    rows = m['rows']
    crates = group(rows, lambda r: r['crate'])
    modules = group(rows, lambda r: r['module'] or '(crate root)' if r['crate'] == 'oidc_wasm' else None)
    result = {k: v for k, v in m.items() if k != 'rows'}
    result['top'] = [{'bytes': r['bytes'], 'name': r['name']} for r in rows[:top]]
    result['crates'] = [{'crate': k, 'bytes': s, 'functions': f} for s, f, k in crates]
    result['modules'] = [{'module': k, 'bytes': s, 'functions': f} for s, f, k in modules]
    if diff:
        other = read(diff)
        mine = {}
        for r in rows:
            mine.setdefault(identity(r['name']), []).append(r['bytes'])
        extra = []
        for r in other['rows']:
            have = mine.get(identity(r['name']))
            if have:
                have.pop()
                if not have:
                    del mine[identity(r['name'])]
            else:
                extra.append(r)
        result['diff'] = {'file': diff, 'code': other['code'], 'functions': other['functions'], 'data': other['data'],
                          'only': [{'bytes': r['bytes'], 'name': r['name']} for r in extra[:top]],
                          'onlyBytes': sum(r['bytes'] for r in extra), 'onlyFunctions': len(extra),
                          'modules': [{'module': k, 'bytes': s, 'functions': f} for s, f, k in
                                      group(extra, lambda r: r['module'] or '(crate root)' if r['crate'] == 'oidc_wasm' else f"({r['crate']})")]}
    if as_json:
        print(json.dumps(result))
        return
    total = m['code'] or 1
    print(f"{path}: {m['bytes']} B; code {m['code']} B in {m['functions']} functions; data {m['data']} B")
    for r in rows[:top]:
        print(f"{r['bytes']:8d} {100 * r['bytes'] / total:5.1f}%  {r['name'][:200]}")
    if by_crate:
        print('by crate:')
        for s, f, k in crates:
            print(f'{s:8d} {100 * s / total:5.1f}%  {k} ({f} functions)')
        print('oidc_wasm by module:')
        for s, f, k in modules:
            print(f'{s:8d} {100 * s / total:5.1f}%  {k} ({f} functions)')
    if diff:
        d = result['diff']
        print(f"only in {diff}: {d['onlyBytes']} B in {d['onlyFunctions']} functions (its code: {d['code']} B)")
        for r in d['only']:
            print(f"{r['bytes']:8d}  {r['name'][:200]}")


if __name__ == '__main__':
    argv = sys.argv[1:]
    diff = None
    if '--diff' in argv:
        k = argv.index('--diff')
        diff = argv[k + 1]
        del argv[k:k + 2]
    args = [a for a in argv if not a.startswith('--')]
    main(args[0], int(args[1]) if len(args) > 1 else 30, '--by-crate' in argv, '--json' in argv, diff)
