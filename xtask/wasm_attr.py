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
groups = collections.Counter()
for n, sz in enumerate(bodies):
    name = names.get(n + imports, '?')
    name = re.sub(r'^<', '', name)
    name = re.sub(r'^_?<?', '', name)
    m = re.match(r'([A-Za-z_][A-Za-z0-9_]*)', name)
    key = m.group(1) if m else name[:20]
    if key in ('impl',): key = name.split(' for ')[-1].split('::')[0]
    groups[key] += sz
total = sum(bodies)
print(f"code {total} bytes in {len(bodies)} functions; data section {datasize} bytes")
for k, v in groups.most_common(int(sys.argv[2]) if len(sys.argv) > 2 else 30):
    print(f"{v:>8}  {k}")
