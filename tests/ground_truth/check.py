#!/usr/bin/env python3
"""Check fledge's fixture projects against real flytekit (ground truth).

    python3 tests/ground_truth/check.py [DIR_OR_FILE ...] [--python PY] [--expected FILE]

Defaults: DIRs = examples/rules examples/shop, PY = the venv from scripts/setup-python.sh (created
on first use), expected = tests/ground_truth/expected_rules.json. Any Python 3 can run this script;
flytekit runs only in PY, through tests/ground_truth/run.py.

For every .py file found:
- listed in expected_rules.json (paths relative to the repo root): flytekit must reject it at the
  recorded stage with an error containing `error_contains` (or accept it, `stage: ok`), show the
  recorded warning if any, and the file must carry exactly one `# expect: <rule>` comment, on
  `expect_line`;
- not listed (e.g. all of examples/shop): the file must be fully clean: it imports, every workflow
  compiles, everything serializes, and no pickle-fallback warning is logged.
Expected entries under a checked folder whose file is missing also fail.

Prints one PASS/FAIL line per file and a final line `N passed, M failed`.
Exit codes: 0 all passed, 1 a check failed, 2 usage error, 3 setup error (no venv, run.py crashed).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from typing import Any, Dict, List, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
EXPECT_RE = re.compile(r"#\s*expect:\s*([a-z][a-z0-9-]*)")
DEFAULT_DIRS = ["examples/rules", "examples/shop"]


def venv_python() -> str:
    setup = os.path.join(REPO, "scripts", "setup-python.sh")
    cp = subprocess.run(["bash", setup], stdout=subprocess.PIPE, text=True)
    lines = cp.stdout.strip().splitlines()
    if cp.returncode != 0 or not lines:
        raise RuntimeError(f"{setup} failed with exit code {cp.returncode}")
    return lines[-1]


def rel(path: str) -> str:
    return os.path.relpath(os.path.abspath(path), REPO).replace(os.sep, "/")


def expect_comments(path: str) -> List[tuple]:
    """(line, rule) for every `# expect: <rule>` comment (tokenized, so strings don't count)."""
    import io
    import tokenize

    found = []
    try:
        with open(path, encoding="utf-8") as fh:
            src = fh.read()
    except OSError:
        return found
    try:
        for tok in tokenize.generate_tokens(io.StringIO(src).readline):
            if tok.type == tokenize.COMMENT:
                m = EXPECT_RE.search(tok.string)
                if m:
                    found.append((tok.start[0], m.group(1)))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        # A file with a syntax error may not tokenize to the end; fall back to a line scan.
        found = []
        for i, line in enumerate(src.splitlines(), 1):
            m = EXPECT_RE.search(line)
            if m:
                found.append((i, m.group(1)))
    return found


def check_expected(r: Dict[str, Any], exp: Dict[str, Any]) -> List[str]:
    problems = []
    rejected = r["stage"] != "ok"
    if rejected != bool(exp["rejected_by_flytekit"]):
        problems.append(f"rejected_by_flytekit: expected {exp['rejected_by_flytekit']}, got {rejected}"
                        f" (stage {r['stage']}, error {r['error']!r})")
    if r["stage"] != exp["stage"]:
        problems.append(f"stage: expected {exp['stage']!r}, got {r['stage']!r} (error {r['error']!r})")
    want = exp.get("error_contains")
    if want and want not in (r.get("error") or ""):
        problems.append(f"error should contain {want!r}, got {r.get('error')!r}")
    if not want and r.get("error"):
        problems.append(f"expected no error, got {r['error']!r}")
    wwant = exp.get("warning_contains")
    if wwant and not any(wwant in w for w in r.get("warnings", [])):
        problems.append(f"a flytekit warning should contain {wwant!r}, got {r.get('warnings')!r}")
    comments = expect_comments(r["file"])
    if len(comments) != 1:
        problems.append(f"expected exactly one '# expect:' comment, found {len(comments)}: {comments}")
    else:
        line, rule = comments[0]
        if rule != exp["rule"]:
            problems.append(f"'# expect:' names {rule!r}, expected_rules.json says {exp['rule']!r}")
        if line != exp["expect_line"]:
            problems.append(f"'# expect:' comment is on line {line}, expected_rules.json says {exp['expect_line']}")
        stem = os.path.splitext(os.path.basename(r["file"]))[0]
        if stem != exp["rule"].replace("-", "_"):
            problems.append(f"file name {stem!r} does not match rule {exp['rule']!r}")
    return problems


def check_clean(r: Dict[str, Any]) -> List[str]:
    problems = []
    if not (r["import_ok"] and r["compile_ok"] and r["serialize_ok"] and r["stage"] == "ok"):
        problems.append(f"not clean: stage {r['stage']}, error {r['error']!r}"
                        + (f" (line {r['error_line']})" if r.get("error_line") else ""))
    pickles = [w for w in r.get("warnings", []) if "PickleFile" in w]
    if pickles:
        problems.append(f"pickle fallback: {pickles[0]}")
    comments = expect_comments(r["file"])
    if comments:
        problems.append(f"has '# expect:' comments {comments} but no entry in expected_rules.json")
    return problems


def main(argv: List[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("paths", nargs="*", help=f"folders/files to check (default: {' '.join(DEFAULT_DIRS)})")
    ap.add_argument("--python", help="python with flytekit 1.16.31 (default: scripts/setup-python.sh)")
    ap.add_argument("--expected", default=os.path.join(HERE, "expected_rules.json"))
    ap.add_argument("--timeout", type=float, default=30.0, help="seconds per file (default 30)")
    ap.add_argument("--verbose", "-v", action="store_true", help="also print run.py's result for each file")
    args = ap.parse_args(argv)
    paths = args.paths or [os.path.join(REPO, d) for d in DEFAULT_DIRS]
    for p in paths:
        if not os.path.exists(p):
            print(f"check.py: no such file or directory: {p}", file=sys.stderr)
            return 2
    try:
        with open(args.expected, encoding="utf-8") as fh:
            expected: Dict[str, Any] = {k: v for k, v in json.load(fh).items() if not k.startswith("_")}
    except (OSError, ValueError) as e:
        print(f"check.py: cannot read {args.expected}: {e}", file=sys.stderr)
        return 2
    try:
        py = args.python or venv_python()
    except RuntimeError as e:
        print(f"check.py: {e}", file=sys.stderr)
        return 3

    t0 = time.monotonic()
    cmd = [py, os.path.join(HERE, "run.py"), "--json", "--timeout", str(args.timeout)] + paths
    cp = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        results: List[Dict[str, Any]] = json.loads(cp.stdout)
    except ValueError:
        print(f"check.py: run.py failed (exit {cp.returncode}): {' '.join(cmd)}\n{cp.stderr[-2000:]}", file=sys.stderr)
        return 3
    elapsed = time.monotonic() - t0

    passed = failed = 0
    seen = set()
    for r in results:
        key = rel(r["file"])
        r["file"] = os.path.abspath(r["file"])
        seen.add(key)
        exp: Optional[Dict[str, Any]] = expected.get(key)
        problems = check_expected(r, exp) if exp else check_clean(r)
        what = f"{exp['rule']} -> {r['stage']}" if exp else f"clean -> {r['stage']}"
        if problems:
            failed += 1
            print(f"FAIL {key} ({what})")
            for p in problems:
                print(f"     - {p}")
        else:
            passed += 1
            print(f"PASS {key} ({what})")
        if args.verbose:
            print("     " + json.dumps({k: r[k] for k in ("stage", "error", "error_line", "warnings")}))

    # Expected entries inside a checked folder that produced no result (file deleted or renamed).
    roots = [rel(p) for p in paths]
    for key in sorted(expected):
        inside = any(key == r or key.startswith(r.rstrip("/") + "/") or r == "." for r in roots)
        if inside and key not in seen:
            failed += 1
            print(f"FAIL {key} (listed in {os.path.basename(args.expected)} but not found)")

    print(f"ground truth: {len(results)} files checked by flytekit in {elapsed:.1f} s")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
