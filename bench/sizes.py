#!/usr/bin/env python3
"""Where the bytes of a Rust binary go: its sections, and its code and data
symbols summed by the crate that names them. Needs a binary that still has
its symbol table (build with CARGO_PROFILE_RELEASE_STRIP=false); the
stripped size is what `strip` leaves.

  python3 bench/sizes.py target/p1/release/switchboard [TOP]

Generic code instantiated for another crate's types is counted under the
crate whose path the symbol starts with (`<A as b::Trait>` counts for A), so
the split is approximate; the totals are exact.
"""

import collections
import re
import subprocess
import sys


def main():
    binary = sys.argv[1]
    top = int(sys.argv[2]) if len(sys.argv) > 2 else 25
    sections = subprocess.run(["size", "-A", binary], capture_output=True, text=True, check=True).stdout
    print("sections (bytes):")
    for line in sections.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0].startswith(".") and parts[1].isdigit() and int(parts[1]) > 100_000:
            print(f"  {parts[0]:24} {int(parts[1]):>12,}")
    symbols = subprocess.run(
        ["nm", "--print-size", "--size-sort", "--demangle=rust", binary], capture_output=True, text=True, check=True
    ).stdout
    by_crate = collections.Counter()
    total = 0
    for line in symbols.splitlines():
        parts = line.split(None, 3)
        if len(parts) < 4:
            continue
        size = int(parts[1], 16)
        name = parts[3].lstrip("<&*").replace("dyn ", "")
        match = re.match(r"([A-Za-z_][A-Za-z0-9_]*)::", name)
        crate = match.group(1) if match else ("(C and assembly: ring, libc)" if "::" not in name else "(other)")
        by_crate[crate] += size
        total += size
    print(f"symbols by crate (of {total:,} bytes in sized symbols):")
    for crate, size in by_crate.most_common(top):
        print(f"  {crate:32} {size:>12,}  {100 * size / total:5.1f} %")


if __name__ == "__main__":
    main()
