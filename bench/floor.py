#!/usr/bin/env python3
"""The file-system floor of `harden generate`: writes a copy of a generated
tree the way harden writes one (each file to a temporary name in its
directory, then renamed into place; no fsync), with nothing to compile, and
prints the wall time in milliseconds.

Usage: bench/floor.py GENERATED_TREE EMPTY_OR_MISSING_DIR
"""
import os
import sys
import time

src, dst = sys.argv[1], sys.argv[2]
files = []
for root, _, names in os.walk(src):
    for name in sorted(names):
        path = os.path.join(root, name)
        with open(path, "rb") as f:
            files.append((os.path.relpath(path, src), f.read()))

start = time.perf_counter()
made = set()
for rel, data in files:
    path = os.path.join(dst, rel)
    parent = os.path.dirname(path)
    if parent not in made:
        os.makedirs(parent, exist_ok=True)
        made.add(parent)
    tmp = os.path.join(parent, ".tmp-" + os.path.basename(path))
    with open(tmp, "wb") as f:
        f.write(data)
    os.rename(tmp, path)
print("%.1f" % ((time.perf_counter() - start) * 1000))
