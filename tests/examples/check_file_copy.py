#!/usr/bin/env python3
"""tests/examples/check_file_copy.py — runs examples/file_copy with no arguments (its
contract: a 100 MiB copy made with gev::File and one made with blocking calls, each beside
a 1 ms ticker) and checks the exit status, both report lines and that the example left
no files behind. No time is asserted: the numbers depend on the machine.
Usage: check_file_copy.py BINARY"""
import glob
import os
import re
import subprocess
import sys
import tempfile

LINE = r"{} copy: 100 MiB in [0-9.]+ s, worst lateness [0-9.]+ ms"


def main():
    binary = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, TMPDIR=tmp)
        p = subprocess.run([binary], capture_output=True, text=True, timeout=240, env=env)
        left = glob.glob(os.path.join(tmp, "*"))
    out = p.stdout
    problems = []
    if p.returncode != 0:
        problems.append(f"exit status {p.returncode}; stderr: {p.stderr}")
    for how in ("gev::File", "blocking"):
        if not re.search("^" + LINE.format(re.escape(how)) + "$", out, re.M):
            problems.append(f"no '{how} copy: ...' line")
    if left:
        problems.append(f"files left behind: {left}")
    if problems:
        print("FAILED: " + "; ".join(problems) + "\n--- output ---\n" + out, file=sys.stderr)
        return 1
    print(out, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
