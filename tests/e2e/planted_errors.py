#!/usr/bin/env python3
"""End-to-end quality test: fledge finds every planted error and nothing else.

    python3 tests/e2e/planted_errors.py FLEDGE_BINARY PATH/TO/shared/bench/gen_project.py

Plain python3 (3.8+), no flytekit needed. In a temp dir it generates, with the shared
project generator,

  * a 50-module project with 20 planted errors (`--modules 50 --seed 1 --inject-errors 20`,
    4 of each kind: unknown-input, missing-input, type-mismatch with a literal,
    type-mismatch with a promise, return-mismatch), and
  * the clean 200-module project (`--modules 200 --seed 1`),

runs `FLEDGE check --format json benchproj` in each project folder (the command of
shared/bench/peers.md) and checks:

  * recall: each planted error is a case; it passes when fledge reports the expected code
    in the same file on a line within [line_start, line_end] of _expected.json (one
    diagnostic accounts for one planted error only);
  * no false positives on the planted project: every diagnostic not matched to a planted
    error fails the case (modules marked clean, extra ones in planted modules, other files);
  * no diagnostics at all on the clean 200-module project;
  * fledge exits 1 on the planted project and 0 on the clean one, with valid JSON.

Prints one PASS/FAIL line per case (failures with code, location and message), then
`N passed, M failed` as the last line. Exit codes: 0 all passed, 1 a case failed,
2 usage error, 3 setup error (generator failed, fledge crashed or printed no JSON).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from typing import List, Optional, Tuple

PLANTED = (50, 20)   # modules, planted errors
CLEAN = 200          # modules of the clean project
SEED = 1
TIMEOUT = 300        # seconds per fledge / generator run


class SetupError(Exception):
    pass


def generate(gen: str, out: str, modules: int, inject: int) -> dict:
    cmd = [sys.executable, gen, "--modules", str(modules), "--seed", str(SEED), "--out", out]
    if inject:
        cmd += ["--inject-errors", str(inject)]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                       timeout=TIMEOUT)
    if r.returncode != 0:
        raise SetupError(f"{' '.join(cmd)} failed ({r.returncode}): {r.stderr.strip()[-2000:]}")
    with open(os.path.join(out, "_expected.json")) as fh:
        return json.load(fh)


def run_fledge(fledge: str, project: str) -> Tuple[int, list]:
    r = subprocess.run([fledge, "check", "--format", "json", "benchproj"], cwd=project,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                       timeout=TIMEOUT)
    if r.returncode not in (0, 1):
        raise SetupError(f"fledge exited {r.returncode} on {project}: {r.stderr.strip()[-2000:]}")
    try:
        diags = json.loads(r.stdout)["diagnostics"]
    except (ValueError, KeyError, TypeError) as e:
        raise SetupError(f"fledge printed no valid JSON on {project} ({e}): {r.stdout[:500]!r}")
    for d in diags:  # paths are relative to the working folder; normalize absolute ones
        p = str(d.get("path", ""))
        if os.path.isabs(p):
            d["path"] = os.path.relpath(p, project)
    return r.returncode, diags


def fmt(d: dict) -> str:
    return (f"{d.get('path')}:{d.get('line')}:{d.get('column')} {d.get('severity')} "
            f"[{d.get('code')}] {d.get('message')}")


def match(expected: dict, diags: list) -> Tuple[List[Tuple[str, dict, Optional[dict]]], list]:
    """Pair planted errors with diagnostics; return (results, unmatched diagnostics)."""
    unused = list(range(len(diags)))
    results = []
    for path in sorted(expected):
        for err in expected[path]["errors"]:
            hit = next((i for i in unused
                        if diags[i].get("path") == path and diags[i].get("code") == err["code"]
                        and err["line_start"] <= diags[i].get("line", -1) <= err["line_end"]), None)
            if hit is not None:
                unused.remove(hit)
            results.append((path, err, diags[hit] if hit is not None else None))
    return results, [diags[i] for i in unused]


def main(argv: List[str]) -> int:
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    fledge, gen = os.path.abspath(argv[1]), os.path.abspath(argv[2])
    if not (os.path.isfile(fledge) and os.access(fledge, os.X_OK)):
        print(f"error: {fledge} is not an executable file", file=sys.stderr)
        return 2
    if not os.path.isfile(gen):
        print(f"error: {gen} not found", file=sys.stderr)
        return 2

    passed = failed = 0

    def case(ok: bool, name: str, details: List[str] = ()):
        nonlocal passed, failed
        if ok:
            passed += 1
            print(f"PASS {name}")
        else:
            failed += 1
            print(f"FAIL {name}")
            for line in details:
                print(f"     {line}")

    with tempfile.TemporaryDirectory(prefix="fledge-e2e-") as tmp:
        try:
            planted_dir = os.path.join(tmp, "planted")
            expected = generate(gen, planted_dir, *PLANTED)
            clean_dir = os.path.join(tmp, "clean")
            generate(gen, clean_dir, CLEAN, 0)
            rc_planted, diags = run_fledge(fledge, planted_dir)
            rc_clean, clean_diags = run_fledge(fledge, clean_dir)
        except (SetupError, subprocess.TimeoutExpired, OSError) as e:
            print(f"setup error: {e}", file=sys.stderr)
            print(f"{passed} passed, {failed + 1} failed")
            return 3

    n_planted = sum(len(v["errors"]) for v in expected.values())
    if n_planted != PLANTED[1]:
        print(f"setup error: generator planted {n_planted} errors, expected {PLANTED[1]}", file=sys.stderr)
        print(f"{passed} passed, {failed + 1} failed")
        return 3

    # recall: one case per planted error
    results, fps = match(expected, diags)
    for path, err, d in results:
        name = f"finds {err['kind']} at {path}:{err['line_start']} ({err['code']})"
        details = []
        if d is None:
            details.append(f"expected: {err['message']}")
            near = [x for x in diags if x.get("path") == path
                    and err["line_start"] - 2 <= x.get("line", -1) <= err["line_end"] + 2]
            details += [f"nearby: {fmt(x)}" for x in near] or ["fledge reports nothing within 2 lines"]
        case(d is not None, name, details)
    found = sum(1 for *_, d in results if d is not None)

    # precision
    case(not fps, f"no false positives on the planted {PLANTED[0]}-module project "
                  f"({len(diags)} diagnostics, {found} matched)",
         [f"false positive: {fmt(d)}" for d in fps])
    case(not clean_diags, f"no diagnostics on the clean {CLEAN}-module project ({len(clean_diags)} reported)",
         [f"false positive: {fmt(d)}" for d in clean_diags])

    # exit status
    case(rc_planted == 1, f"fledge exits 1 on the planted project (got {rc_planted})")
    case(rc_clean == 0, f"fledge exits 0 on the clean project (got {rc_clean})")

    print(f"recall {found}/{len(results)}, false positives {len(fps) + len(clean_diags)}")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
