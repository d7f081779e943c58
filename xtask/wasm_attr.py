"""Per-crate code size of a core wasm module, from its name section (what
twiggy's shallow sizes give, grouped by the first path segment)."""
import sys, collections, re

def leb(b, i):
    r = s = 0
    while True:
        x = b[i]; i += 1
        r |= (x & 0x7f) << s; s += 7
        if x < 0x80: return r, i

data = open(sys.argv[1], 'rb').read()
i = 8; imports = 0; bodies = []; names = {}; datasize = 0
while i < len(data):
    sid = data[i]; i += 1
    size, i = leb(data, i); end = i + size
    if sid == 2:
        n, j = leb(data, i)
        for _ in range(n):
            l, j = leb(data, j); j += l
            l, j = leb(data, j); j += l
            kind = data[j]; j += 1
            if kind == 0: _, j = leb(data, j); imports += 1
            elif kind == 1: j += 1; f = data[j]; j += 1; _, j = leb(data, j); j = leb(data, j)[1] if f & 1 else j
            elif kind == 2: f = data[j]; j += 1; _, j = leb(data, j); j = leb(data, j)[1] if f & 1 else j
            elif kind == 3: j += 2
    elif sid == 10:
        n, j = leb(data, i)
        for _ in range(n):
            l, j2 = leb(data, j); bodies.append(l + (j2 - j)); j = j2 + l
    elif sid == 11:
        datasize = size
    elif sid == 0:
        l, j = leb(data, i); nm = data[j:j+l].decode(); j += l
        if nm == 'name':
            while j < end:
                sub = data[j]; j += 1; ss, j = leb(data, j); se = j + ss
                if sub == 1:
                    n, k = leb(data, j)
                    for _ in range(n):
                        idx, k = leb(data, k); l, k = leb(data, k); names[idx] = data[k:k+l].decode('utf8', 'replace'); k += l
                j = se
    i = end
def crate_of(name):
    """The crate of a Rust symbol (legacy `_ZN` or v0 `_R` mangling)."""
    n = name.lstrip('_')
    if name.startswith(('cloudauth:', 'cabi_')):
        return '(export glue: cloudauth:auth/* and cabi_*)'
    if n.startswith('ZN'):
        m = re.match(r'ZN(\d+)', n)
        if not m:
            return name[:24]
        ident = n[m.end():m.end() + int(m.group(1))].lstrip('_')
        if ident.startswith('$LT$'):
            inner = ident[4:]
            inner = re.sub(r'^(\$RF\$|\$BP\$|mut\$u20\$|\$u5b\$|\$LP\$)+', '', inner)
            return re.split(r'\.\.|\$', inner)[0] or ident[:24]
        return ident
    if n.startswith('R'):
        m = re.search(r'C(?:s[0-9A-Za-z_]*?_)?(\d+)([A-Za-z_])', n)
        if m:
            start = m.start(2)
            return n[start:start + int(m.group(1))]
    if name.startswith(('cloudauth:', 'cabi_')):
        return '(export glue: cloudauth:auth/* and cabi_*)'
    return name[:24]

groups = collections.Counter()
for n, sz in enumerate(bodies):
    groups[crate_of(names.get(n + imports, '?'))] += sz
total = sum(bodies)
print(f"code {total} bytes in {len(bodies)} functions; data section {datasize} bytes")
for k, v in groups.most_common(int(sys.argv[2]) if len(sys.argv) > 2 else 30):
    print(f"{v:>8}  {k}")
