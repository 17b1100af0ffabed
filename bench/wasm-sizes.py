#!/usr/bin/env python3
"""Lists the largest functions of a wasm module by body size, using its name section (like `twiggy top`).
Usage: python3 bench/wasm-sizes.py build/wasm/oidc_wasm_bg.wasm [N]"""
import sys

def leb(b, i):
    r = s = 0
    while True:
        x = b[i]; i += 1
        r |= (x & 0x7f) << s; s += 7
        if x < 0x80:
            return r, i

def main(path, top):
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
    print(f'{path}: {len(b)} B; code {total} B in {len(bodies)} functions; data {sections.get(11, 0)} B')
    rows = sorted(((s, names.get(imports + k, f'func[{imports + k}]')) for k, s in enumerate(bodies)), reverse=True)
    for s, n in rows[:top]:
        print(f'{s:8d} {100 * s / total:5.1f}%  {n[:150]}')

main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 30)
