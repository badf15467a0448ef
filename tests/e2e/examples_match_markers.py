#!/usr/bin/env python3
"""End to end: `fledge check` on the example projects reports exactly their `# expect:` markers.

    python3 tests/e2e/examples_match_markers.py [DIR ...] [--fledge PATH]

Defaults: DIRs = examples/rules examples/shop, PATH = target/release/fledge. Plain Python 3, no
flytekit needed.

For every DIR, `fledge check --format json DIR` is run from the repository root and its
diagnostics, as (file, line, code), must equal the `# expect: <code>[, <code>...]` comments of the
.py files under DIR (comments only, found with the tokenizer; the line of the comment is the
line of the diagnostic's start) — nothing missing, nothing extra, no duplicates. The exit code
must agree: 1 when an error-severity diagnostic is reported, else 0 (so a DIR without markers,
like examples/shop, must exit 0 with no diagnostics); anything else (2: unreadable files, bad
configuration, internal error) fails.

Prints one line per marker/diagnostic problem, a PASS/FAIL line per DIR and a final line
`N passed, M failed` (counting DIRs). Exit codes: 0 all passed, 1 a mismatch, 2 usage error.
"""
from __future__ import annotations

import argparse
import collections
import io
import json
import os
import re
import subprocess
import sys
import tokenize
from typing import Counter, List, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DEFAULT_DIRS = ["examples/rules", "examples/shop"]
DEFAULT_FLEDGE = os.path.join(REPO, "target", "release", "fledge")
EXPECT_RE = re.compile(r"#\s*expect:\s*([a-z][a-z0-9-]*(?:\s*,\s*[a-z][a-z0-9-]*)*)")
SKIP_DIRS = {"__pycache__", "node_modules", "venv", ".venv", "build", "dist", "site-packages", "target"}

Key = Tuple[str, int, str]  # (path relative to the repo, 1-based line, rule code)


def rel(path: str) -> str:
    return os.path.relpath(os.path.realpath(path), os.path.realpath(REPO)).replace(os.sep, "/")


def py_files(root: str) -> List[str]:
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in SKIP_DIRS)
        out.extend(os.path.join(dirpath, f) for f in sorted(filenames) if f.endswith(".py"))
    return out


def markers(path: str) -> List[Tuple[int, str]]:
    """(line, code) for every `# expect:` comment; a file that does not tokenize is scanned by line."""
    with open(path, encoding="utf-8", errors="replace") as fh:
        src = fh.read()
    found: List[Tuple[int, str]] = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(src).readline):
            if tok.type == tokenize.COMMENT:
                m = EXPECT_RE.search(tok.string)
                if m:
                    found.extend((tok.start[0], c.strip()) for c in m.group(1).split(","))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        found = []
        for i, line in enumerate(src.splitlines(), 1):
            m = EXPECT_RE.search(line)
            if m:
                found.extend((i, c.strip()) for c in m.group(1).split(","))
    return found


def check_dir(fledge: str, d: str) -> List[str]:
    problems: List[str] = []
    want: Counter[Key] = collections.Counter()
    for f in py_files(d):
        for line, code in markers(f):
            want[(rel(f), line, code)] += 1
    cmd = [fledge, "check", "--format", "json", os.path.relpath(d, REPO)]
    cp = subprocess.run(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        doc = json.loads(cp.stdout)
        diags = doc["diagnostics"]
    except (ValueError, KeyError, TypeError):
        return [f"`{' '.join(cmd)}` exited {cp.returncode} without a JSON report: "
                f"stdout {cp.stdout[-500:]!r}, stderr {cp.stderr[-1000:]!r}"]
    got: Counter[Key] = collections.Counter()
    messages = {}
    for dg in diags:
        key = (rel(os.path.join(REPO, dg["path"])), int(dg["line"]), dg["code"])
        got[key] += 1
        messages.setdefault(key, f"{dg['severity']}: {dg['message']}")
    for key in sorted(want - got):
        problems.append(f"missing   {key[0]}:{key[1]} {key[2]} (marked `# expect: {key[2]}`, not reported)")
    for key in sorted(got - want):
        problems.append(f"unexpected {key[0]}:{key[1]} {key[2]} {messages[key]}")
    has_error = any(dg.get("severity") == "error" for dg in diags)
    want_code = 1 if has_error else 0
    if cp.returncode != want_code:
        problems.append(f"`{' '.join(cmd)}` exited {cp.returncode}, expected {want_code} "
                        f"({'an error' if has_error else 'no error'} diagnostic reported)"
                        + (f"; stderr: {cp.stderr.strip()[-1000:]}" if cp.stderr.strip() else ""))
    elif cp.stderr.strip():
        problems.append(f"unexpected stderr from `{' '.join(cmd)}`: {cp.stderr.strip()[-1000:]}")
    print(f"{'FAIL' if problems else 'PASS'} {rel(d)}: {sum(want.values())} markers, {len(diags)} diagnostics, "
          f"exit {cp.returncode}")
    for p in problems:
        print(f"     - {p}")
    return problems


def main(argv: List[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dirs", nargs="*", help=f"example projects (default: {' '.join(DEFAULT_DIRS)})")
    ap.add_argument("--fledge", default=DEFAULT_FLEDGE, help="the fledge binary (default: target/release/fledge)")
    args = ap.parse_args(argv)
    dirs = [os.path.abspath(d) for d in args.dirs] or [os.path.join(REPO, d) for d in DEFAULT_DIRS]
    if not (os.path.isfile(args.fledge) and os.access(args.fledge, os.X_OK)):
        print(f"examples_match_markers.py: no fledge binary at {args.fledge} (run `cargo build --release`)",
              file=sys.stderr)
        return 2
    for d in dirs:
        if not os.path.isdir(d):
            print(f"examples_match_markers.py: no such directory: {d}", file=sys.stderr)
            return 2
    passed = failed = 0
    for d in dirs:
        if check_dir(args.fledge, d):
            failed += 1
        else:
            passed += 1
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
