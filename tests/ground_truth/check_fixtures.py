#!/usr/bin/env python3
"""Check the rule fixtures' `# flyte:` headers against real flytekit (ground truth).

    PY=$(scripts/setup-python.sh | tail -n1)
    $PY tests/ground_truth/check_fixtures.py [DIR_OR_FILE ...] [--timeout 30] [--jobs N] [-v]

Default: every core/src/rules/fixtures/<code>/*.py. (Run with another python and the script
re-runs itself with the venv python printed by scripts/setup-python.sh.)

Every fixture's first line is `# flyte: <verdict>`:
- `clean ...`               flytekit imports, compiles and serializes the module;
- `import <text>`           flytekit fails at import,
  `compile <text>`          ... at workflow compile time,
  `serialize <text>`        ... at serialization (get_serializable, as `pyflyte package`),
                            and, when <text> is given, the error contains it (case-sensitive):
                            `<text>` is a substring of `<ExceptionType>: <full message>`, or
                            <text> is `<ExceptionType>: <fragment>` and flytekit raised exactly
                            that type with <fragment> somewhere in its full (multi-line) message;
                            the first error is checked, then any other error of that stage;
- `registration <X>`        flytekit accepts import and compile (serialize must pass too unless
                            the header mentions `serialize`), and <X> names a known FlyteAdmin
                            error: a compiler error code (MismatchingTypes, CycleDetected,
                            FieldNotFound, BranchNodeHasNoDefault, IllegalEnumValue,
                            ParameterNotBound) or a validator (task_validator,
                            launch_plan_validator).

Each fixture is a standalone module: it is imported by file as the module named after its stem,
with its own folder first on sys.path (and as working directory), in its own process (forked
from this one once flytekit is imported: tests/ground_truth/run.py's machinery), since several
fixtures share a stem (`error`, `clean`).

Prints one PASS/FAIL line per fixture and a final line `N passed, M failed`.
Exit codes: 0 all passed, 1 a check failed, 2 usage error, 3 setup error.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import re
import subprocess
import sys
import time
from typing import Any, Dict, List, Optional, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DEFAULT_DIR = os.path.join(REPO, "core", "src", "rules", "fixtures")
HEADER_RE = re.compile(r"^#\s*flyte:\s*(\S+)\s*(.*?)\s*$")
STAGES = ("import", "compile", "serialize")
ADMIN_CODES = ("MismatchingTypes", "CycleDetected", "FieldNotFound", "BranchNodeHasNoDefault",
               "IllegalEnumValue", "ParameterNotBound")
ADMIN_VALIDATORS = ("task_validator", "launch_plan_validator")
REEXEC_GUARD = "FLEDGE_CHECK_FIXTURES_REEXEC"


def rel(path: str) -> str:
    return os.path.relpath(os.path.abspath(path), REPO).replace(os.sep, "/")


def ensure_flytekit(argv: List[str]) -> None:
    """Re-run this script with the venv python when this interpreter has no flytekit."""
    try:
        import flytekit  # noqa: F401
        return
    except ImportError as e:
        reason = str(e)
    if os.environ.get(REEXEC_GUARD):
        print(f"check_fixtures.py: flytekit is not importable by {sys.executable} ({reason})", file=sys.stderr)
        sys.exit(3)
    setup = os.path.join(REPO, "scripts", "setup-python.sh")
    cp = subprocess.run(["bash", setup], stdout=subprocess.PIPE, text=True)
    lines = cp.stdout.strip().splitlines()
    if cp.returncode != 0 or not lines:
        print(f"check_fixtures.py: {setup} failed with exit code {cp.returncode}", file=sys.stderr)
        sys.exit(3)
    py = lines[-1]
    os.environ[REEXEC_GUARD] = "1"
    os.execv(py, [py, os.path.abspath(__file__)] + argv)


def load_run_py():
    spec = importlib.util.spec_from_file_location("fledge_ground_truth_run", os.path.join(HERE, "run.py"))
    if spec is None or spec.loader is None:
        raise RuntimeError("cannot load tests/ground_truth/run.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def find_fixtures(paths: List[str]) -> List[str]:
    out: List[str] = []
    for p in paths:
        if os.path.isdir(p):
            for dirpath, dirnames, filenames in os.walk(p):
                dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d != "__pycache__")
                out.extend(os.path.join(dirpath, f) for f in sorted(filenames) if f.endswith(".py"))
        elif os.path.isfile(p):
            out.append(p)
        else:
            raise FileNotFoundError(p)
    return out


def read_header(path: str) -> Optional[Tuple[str, str]]:
    """(verdict, text after it) from the `# flyte:` first line, or None."""
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            first = fh.readline()
    except OSError:
        return None
    m = HEADER_RE.match(first.rstrip("\r\n"))
    if not m:
        return None
    return m.group(1), m.group(2)


def short(text: Optional[str], limit: int = 300) -> Optional[str]:
    return text if text is None or len(text) <= limit else text[:limit] + "..."


def describe(r: Dict[str, Any]) -> str:
    line = f" (line {r['error_line']})" if r.get("error_line") else ""
    return f"stage {r['stage']}, error {short(r.get('error'))!r}{line}"


ENTITY_PREFIX_RE = re.compile(r"^(?:workflow|task|launch_plan) \S+: ")
TYPED_TEXT_RE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?::\s*(.*))?$", re.S)


def full_error(e: BaseException) -> str:
    """`<ExceptionType>: <whole message, whitespace collapsed>` (run.py keeps only the first line)."""
    text = " ".join(str(e).split())
    return f"{type(e).__name__}: {text[:4000]}" if text else type(e).__name__


def errors_of_stage(r: Dict[str, Any]) -> List[str]:
    """The headline error first, then every error run.py recorded, as `<Type>: <message>`."""
    out = [r.get("error") or ""]
    out.extend(ENTITY_PREFIX_RE.sub("", e) for e in (r.get("errors") or []))
    return [e for e in out if e]


def error_matches(text: str, error: str) -> bool:
    """Is the header's text in this error: a plain substring, or `<Type>: <fragment>` matching
    the exception type exactly and a fragment of its message?"""
    if text in error:
        return True
    m = TYPED_TEXT_RE.match(text)
    if not m:
        return False
    etype, _, emsg = error.partition(": ")
    return etype == m.group(1) and (not m.group(2) or m.group(2) in emsg)


def check(verdict: str, text: str, r: Dict[str, Any]) -> List[str]:
    problems: List[str] = []
    stage = r["stage"]
    if verdict == "clean":
        if not (r["import_ok"] and r["compile_ok"] and r["serialize_ok"] and stage == "ok"):
            problems.append(f"header says clean, flytekit says {describe(r)}")
    elif verdict in STAGES:
        if stage != verdict:
            problems.append(f"header says flytekit fails at {verdict}, flytekit says {describe(r)}")
        elif text and not any(error_matches(text, e) for e in errors_of_stage(r)):
            problems.append(f"error should contain {text!r}, flytekit says {describe(r)}"
                            + (f"; all errors: {[short(e) for e in r['errors']]!r}" if len(r.get("errors") or []) > 1 else ""))
    elif verdict == "registration":
        serialize_may_fail = "serialize" in text
        if not (r["import_ok"] and r["compile_ok"]):
            problems.append(f"header says flytekit accepts the file (registration error), flytekit says {describe(r)}")
        elif not r["serialize_ok"] and not serialize_may_fail:
            problems.append(f"header says flytekit accepts the file (registration error), but serialization fails: "
                            f"{describe(r)} (say `serialize` in the header if that is expected)")
        if not (any(c in text for c in ADMIN_CODES) or any(v in text for v in ADMIN_VALIDATORS)):
            problems.append(f"registration verdict {text!r} names no known FlyteAdmin error "
                            f"({', '.join(ADMIN_CODES + ADMIN_VALIDATORS)})")
    else:
        problems.append(f"unknown verdict {verdict!r} (expected clean, import, compile, serialize or registration)")
    if stage == "timeout":
        problems.append(f"flytekit did not finish: {r.get('error')}")
    return problems


def main(argv: List[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("paths", nargs="*", help=f"fixture folders/files (default: {rel(DEFAULT_DIR)})")
    ap.add_argument("--timeout", type=float, default=30.0, help="seconds per fixture (default 30)")
    ap.add_argument("--jobs", type=int, default=max(os.cpu_count() or 1, 1), help="fixtures checked in parallel")
    ap.add_argument("--verbose", "-v", action="store_true", help="also print flytekit's result for each fixture")
    args = ap.parse_args(argv)
    paths = args.paths or [DEFAULT_DIR]
    try:
        files = find_fixtures(paths)
    except FileNotFoundError as e:
        print(f"check_fixtures.py: no such file or directory: {e}", file=sys.stderr)
        return 2
    if not files:
        print(f"check_fixtures.py: no fixtures found under {' '.join(paths)}", file=sys.stderr)
        return 2

    ensure_flytekit(argv)
    # As run.py's main does, before flytekit is imported (by run_fork's preload).
    os.environ.setdefault("FLYTE_SDK_LOGGING_LEVEL", "30")
    os.environ["PYTHONHASHSEED"] = "0"
    sys.dont_write_bytecode = True  # keep fixture folders free of __pycache__

    try:
        gt = load_run_py()
    except Exception as e:  # noqa: BLE001
        print(f"check_fixtures.py: {e}", file=sys.stderr)
        return 3
    # A fixture is a standalone module: its own folder is the root, its stem the module name
    # (run.py would otherwise look for a pyproject.toml above it and use a dotted path).
    gt.project_root = lambda path: os.path.dirname(os.path.abspath(path))
    # Record whole error messages: the words a header quotes may be past the first line.
    gt._first_line = full_error

    t0 = time.monotonic()
    use_fork = hasattr(os, "fork") and sys.platform.startswith("linux")
    results = (gt.run_fork if use_fork else gt.run_spawn)(files, args.timeout, args.jobs)
    elapsed = time.monotonic() - t0

    passed = failed = 0
    for f, r in zip(files, results):
        key = rel(f)
        header = read_header(f)
        if header is None:
            problems = ["first line is not a `# flyte: <verdict>` header"]
            what = "no header"
        else:
            verdict, text = header
            problems = check(verdict, text, r)
            what = f"{verdict} -> {r['stage']}"
        if problems:
            failed += 1
            print(f"FAIL {key} ({what})")
            for p in problems:
                print(f"     - {p}")
        else:
            passed += 1
            print(f"PASS {key} ({what})")
        if args.verbose:
            print(f"     {describe(r)}; warnings {r.get('warnings')!r}")
    print(f"fixture ground truth: {len(files)} fixtures checked by flytekit in {elapsed:.1f} s")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
