#!/usr/bin/env python3
"""Ground truth: what real flytekit does with each Python file.

Run it with the venv Python from scripts/setup-python.sh (flytekit 1.16.31):

    PY=$(scripts/setup-python.sh | tail -n1)
    $PY tests/ground_truth/run.py FIXTURE_DIR_OR_FILE... [--json] [--timeout 30] [--jobs N]

Every .py file (directories are searched recursively; hidden, __pycache__, venv and build
folders are skipped) is checked in its own fresh subprocess. On Linux that process is forked
from this one after flytekit (and pandas/pyarrow) were imported, but before any fixture module
was, so each file starts from the same clean flytekit state without paying ~1.5 s of imports
(a 23-file run takes ~3 s instead of ~30 s on 2 cores); `--spawn` starts a brand-new interpreter
per file instead (same results, slower). Files run --jobs at a time. In that process:

1. import: the file's project root (nearest parent folder with a pyproject.toml, else the file's
   own folder) goes first on sys.path and becomes the working directory, and the file is imported
   by its dotted module name relative to that root (e.g. `shop.pipeline`), as `pyflyte run` and
   `pyflyte package` would;
2. compile: every workflow *defined* in the module (bound by a top-level def/assignment there, not
   imported) is compiled (`wf.compile()`, which runs the body with promises);
3. serialize: every task, workflow and launch plan defined in the module, plus each workflow's
   default launch plan (`pyflyte register`/`package` always create it), goes through flytekit's
   `get_serializable` with offline settings, as `pyflyte package` does.

Output (--json): a JSON list, one object per file:
    {"file", "module", "root", "import_ok", "compile_ok", "serialize_ok",
     "stage": "import|compile|serialize|timeout|ok",   # first failing stage, "ok" if none
     "error": "<ExceptionType: first line of message>" or null,
     "error_line": line in this file where it was raised (innermost frame in the file) or null,
     "errors": [every error, "<kind> <name>: <Type: first line>"],
     "warnings": [flytekit WARNING+ log messages, first line each],
     "entities": {"workflows": [...], "tasks": [...], "launch_plans": [...]},
     "seconds": wall time of the subprocess}
A file that hangs is killed after --timeout seconds (stage "timeout"); one whose process dies
without a result (os._exit, a crash) gets stage "import" and error "ProbeCrashed: ...".
Without --json a short table is printed. Exit code: 0 when every file reached "ok", 1 otherwise,
2 on usage errors, 3 when flytekit is not importable by this interpreter.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import subprocess
import sys
import time
from typing import Any, Dict, List, Optional, Tuple

RESULT_MARK = "@@FLEDGE_GROUND_TRUTH@@ "
SKIP_DIRS = {"__pycache__", "node_modules", "venv", "build", "dist", "site-packages", "target"}
DEFAULT_TIMEOUT = 30.0


# ----------------------------------------------------------------------------------------------
# parent side: find files, run one subprocess per file, print the report
# ----------------------------------------------------------------------------------------------

def find_py_files(paths: List[str]) -> List[str]:
    out: List[str] = []
    for p in paths:
        if os.path.isdir(p):
            for dirpath, dirnames, filenames in os.walk(p):
                dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in SKIP_DIRS)
                out.extend(os.path.join(dirpath, f) for f in sorted(filenames) if f.endswith(".py"))
        elif os.path.isfile(p):
            out.append(p)
        else:
            raise FileNotFoundError(p)
    seen, uniq = set(), []
    for f in out:
        a = os.path.abspath(f)
        if a not in seen:
            seen.add(a)
            uniq.append(f)
    return uniq


def project_root(path: str) -> str:
    """Nearest parent folder holding a pyproject.toml, else the file's own folder."""
    here = os.path.dirname(os.path.abspath(path))
    d = here
    while True:
        if os.path.isfile(os.path.join(d, "pyproject.toml")):
            return d
        parent = os.path.dirname(d)
        if parent == d:
            return here
        d = parent


def module_name(path: str, root: str) -> str:
    rel = os.path.relpath(os.path.abspath(path), root)
    parts = rel[:-3].split(os.sep) if rel.endswith(".py") else rel.split(os.sep)
    if len(parts) > 1 and parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _new_result(path: str) -> Dict[str, Any]:
    root = project_root(path)
    return {
        "file": path, "module": module_name(path, root), "root": root,
        "import_ok": False, "compile_ok": False, "serialize_ok": False,
        "stage": "import", "error": None, "error_line": None, "errors": [], "warnings": [],
        "entities": {"workflows": [], "tasks": [], "launch_plans": []}, "seconds": 0.0,
    }


def _timed_out(res: Dict[str, Any], timeout: float) -> None:
    res.update(stage="timeout", error=f"TimeoutExpired: no result after {timeout:g} s",
               errors=[f"timeout after {timeout:g} s"])


def _crashed(res: Dict[str, Any], code: int, output: str) -> None:
    tail = (output.strip().splitlines() or ["(no output)"])[-1]
    res.update(stage="import", error=f"ProbeCrashed: exit status {code}: {tail[:300]}",
               errors=[f"probe crashed (exit status {code}): {tail[:300]}"])


def check_file_spawn(path: str, timeout: float) -> Dict[str, Any]:
    """One file in a brand-new interpreter (slow: every file pays flytekit's import time)."""
    res = _new_result(path)
    root = res["root"]
    env = dict(os.environ)
    env["PYTHONPATH"] = root
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    cmd = [sys.executable, os.path.abspath(__file__), "--child", os.path.abspath(path), root, res["module"]]
    t0 = time.monotonic()
    try:
        cp = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        _timed_out(res, timeout)
        res["seconds"] = round(time.monotonic() - t0, 2)
        return res
    res["seconds"] = round(time.monotonic() - t0, 2)
    lines = [ln for ln in cp.stdout.splitlines() if ln.startswith(RESULT_MARK)]
    if not lines:
        _crashed(res, cp.returncode, cp.stderr)
        return res
    res.update(json.loads(lines[-1][len(RESULT_MARK):]))
    return res


def run_spawn(files: List[str], timeout: float, jobs: int) -> List[Dict[str, Any]]:
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(jobs, 1)) as ex:
        return list(ex.map(lambda f: check_file_spawn(f, timeout), files))


def run_fork(files: List[str], timeout: float, jobs: int) -> List[Dict[str, Any]]:
    """Each file in a process forked from this one after flytekit (and pandas) were imported.

    The fork is a fresh process as far as the checked code is concerned: this process never
    imports a fixture module, so every child starts from the same clean flytekit state, and it
    saves flytekit's ~1.5 s import per file. Single-threaded on purpose (fork + threads don't mix).
    """
    import signal
    import tempfile

    _preload()
    results = [_new_result(f) for f in files]
    pending = list(range(len(files)))
    running: Dict[int, Tuple[int, float, str, str]] = {}  # pid -> (index, start, result file, log file)
    tmpdir = tempfile.mkdtemp(prefix="fledge-gt-")
    try:
        while pending or running:
            while pending and len(running) < max(jobs, 1):
                i = pending.pop(0)
                out_path = os.path.join(tmpdir, f"{i}.json")
                log_path = os.path.join(tmpdir, f"{i}.log")
                sys.stdout.flush()
                sys.stderr.flush()
                pid = os.fork()
                if pid == 0:  # child
                    code = 0
                    try:
                        fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
                        os.dup2(fd, 1)
                        os.dup2(fd, 2)
                        r = results[i]
                        abs_file = os.path.abspath(r["file"])
                        os.chdir(r["root"])
                        child(abs_file, r["root"], r["module"], out_path)
                    except BaseException:  # noqa: BLE001
                        code = 70
                    finally:
                        os._exit(code)
                running[pid] = (i, time.monotonic(), out_path, log_path)
            time.sleep(0.01)
            for pid, (i, t0, out_path, log_path) in list(running.items()):
                done, status = os.waitpid(pid, os.WNOHANG)
                now = time.monotonic()
                if done == 0:
                    if now - t0 > timeout:
                        os.kill(pid, signal.SIGKILL)
                        os.waitpid(pid, 0)
                        del running[pid]
                        _timed_out(results[i], timeout)
                        results[i]["seconds"] = round(now - t0, 2)
                    continue
                del running[pid]
                results[i]["seconds"] = round(now - t0, 2)
                try:
                    with open(out_path, encoding="utf-8") as fh:
                        results[i].update(json.load(fh))
                except (OSError, ValueError):
                    try:
                        with open(log_path, encoding="utf-8", errors="replace") as fh:
                            log = fh.read()
                    except OSError:
                        log = ""
                    _crashed(results[i], os.waitstatus_to_exitcode(status), log)
    finally:
        for pid in list(running):
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except OSError:
                pass
        import shutil

        shutil.rmtree(tmpdir, ignore_errors=True)
    return results


def _preload() -> None:
    """Import what every child needs anyway, once, before forking."""
    import flytekit  # noqa: F401
    from flytekit.tools import translator  # noqa: F401
    from flytekit.core import launch_plan, workflow  # noqa: F401
    try:
        import pandas  # noqa: F401
        import pyarrow  # noqa: F401
    except ImportError:
        pass


def print_table(results: List[Dict[str, Any]]) -> None:
    w = max([len(r["file"]) for r in results] + [4])
    for r in results:
        err = f"  {r['error']}" if r["error"] else ""
        print(f"{r['file']:<{w}}  {r['stage']:<9} {r['seconds']:>5.1f}s{err}")


def main(argv: List[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("paths", nargs="+", help="fixture files or directories")
    ap.add_argument("--json", action="store_true", help="print a JSON list")
    ap.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds per file (default 30)")
    ap.add_argument("--jobs", type=int, default=max(os.cpu_count() or 1, 1),
                    help="files checked in parallel (default: CPU count)")
    ap.add_argument("--spawn", action="store_true",
                    help="start a new interpreter per file instead of forking (slower; default off Linux)")
    args = ap.parse_args(argv)
    # Set before flytekit is imported (here, or in the spawned children).
    os.environ.setdefault("FLYTE_SDK_LOGGING_LEVEL", "30")  # WARNING: lets pickle-fallback warnings through
    os.environ["PYTHONHASHSEED"] = "0"
    sys.dont_write_bytecode = True  # keep fixture folders free of __pycache__
    try:
        import flytekit  # noqa: F401  (fail early, in the parent, with a clear message)
    except ImportError as e:
        print(f"run.py: flytekit is not importable by {sys.executable} ({e}); "
              f"use the python printed by scripts/setup-python.sh", file=sys.stderr)
        return 3
    try:
        files = find_py_files(args.paths)
    except FileNotFoundError as e:
        print(f"run.py: no such file or directory: {e}", file=sys.stderr)
        return 2
    use_fork = hasattr(os, "fork") and sys.platform.startswith("linux") and not args.spawn
    results = (run_fork if use_fork else run_spawn)(files, args.timeout, args.jobs)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print_table(results)
    return 0 if all(r["stage"] == "ok" for r in results) else 1


# ----------------------------------------------------------------------------------------------
# child side: import, compile, serialize one module; print one JSON line
# ----------------------------------------------------------------------------------------------

def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    first = text.splitlines()[0].strip() if text else ""
    return f"{type(e).__name__}: {first[:400]}" if first else type(e).__name__


def _line_in_file(e: BaseException, path: str) -> Optional[int]:
    import traceback

    if isinstance(e, SyntaxError) and e.filename and os.path.abspath(e.filename) == path:
        return e.lineno
    line = None
    try:
        for fr in traceback.extract_tb(e.__traceback__):
            if os.path.abspath(fr.filename) == path:
                line = fr.lineno
    except Exception:  # noqa: BLE001
        pass
    return line


def _top_level_bindings(path: str) -> Optional[set]:
    """Names the module binds itself at top level (def, class, assignment), not by import."""
    import ast

    try:
        with open(path, encoding="utf-8") as fh:
            tree = ast.parse(fh.read())
    except (OSError, SyntaxError, ValueError):
        return None
    names: set = set()

    def visit(stmts):
        for st in stmts:
            if isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(st.name)
                continue
            if isinstance(st, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                for t in (st.targets if isinstance(st, ast.Assign) else [st.target]):
                    names.update(n.id for n in ast.walk(t) if isinstance(n, ast.Name))
            for field in ("body", "orelse", "finalbody"):
                inner = getattr(st, field, None)
                if isinstance(inner, list):
                    visit(inner)
            for h in getattr(st, "handlers", []) or []:
                visit(h.body)

    visit(tree.body)
    return names


def _collect(mod, path: str) -> Dict[str, List[Tuple[str, Any]]]:
    from flytekit.core.base_task import PythonTask
    from flytekit.core.launch_plan import LaunchPlan
    from flytekit.core.workflow import WorkflowBase

    local = _top_level_bindings(path)
    out: Dict[str, List[Tuple[str, Any]]] = {"workflows": [], "tasks": [], "launch_plans": []}
    seen = set()
    for attr, obj in list(vars(mod).items()):
        if isinstance(obj, WorkflowBase):
            kind = "workflows"
        elif isinstance(obj, LaunchPlan):
            kind = "launch_plans"
        elif isinstance(obj, PythonTask):
            kind = "tasks"
        else:
            continue
        if id(obj) in seen:
            continue
        if local is not None:
            here = attr in local
        else:
            fn = getattr(obj, "task_function", None) or getattr(obj, "_workflow_function", None)
            here = getattr(fn, "__module__", None) == mod.__name__
        if here:
            seen.add(id(obj))
            out[kind].append((attr, obj))
    return out


def child(path: str, root: str, modname: str, out_path: Optional[str] = None) -> int:
    import importlib
    import logging

    res: Dict[str, Any] = {"import_ok": False, "compile_ok": False, "serialize_ok": False,
                           "stage": "import", "error": None, "error_line": None, "errors": [],
                           "warnings": [], "entities": {"workflows": [], "tasks": [], "launch_plans": []}}
    warnings: List[str] = res["warnings"]

    def emit() -> int:
        if out_path is not None:
            with open(out_path, "w", encoding="utf-8") as fh:
                json.dump(res, fh)
            return 0
        sys.stdout.flush()
        sys.stdout.write("\n" + RESULT_MARK + json.dumps(res) + "\n")
        sys.stdout.flush()
        return 0

    def fail(stage: str, what: str, e: BaseException) -> None:
        msg = _first_line(e)
        res["errors"].append(f"{what}: {msg}" if what else msg)
        if res["error"] is None:
            res["stage"], res["error"], res["error_line"] = stage, msg, _line_in_file(e, path)

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            try:
                text = record.getMessage().strip().splitlines()
            except Exception:  # noqa: BLE001
                return
            if text and len(warnings) < 50:
                warnings.append(f"{record.levelname}: {text[0][:300]}")

    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [root] + [p for p in sys.path if p not in ("", root, here)]
    import flytekit  # noqa: F401  (configures flytekit's logger before we attach to it)
    from flytekit.configuration import ImageConfig, SerializationSettings
    from flytekit.core.launch_plan import LaunchPlan
    from flytekit.core.context_manager import FlyteContextManager
    from flytekit.tools.translator import get_serializable
    from collections import OrderedDict

    cap = Capture(level=logging.WARNING)
    logging.getLogger("flytekit").addHandler(cap)

    # import
    try:
        mod = importlib.import_module(modname)
    except BaseException as e:  # noqa: BLE001 - SystemExit and friends from user code too
        if isinstance(e, KeyboardInterrupt):
            raise
        fail("import", "", e)
        return emit()
    if os.path.abspath(getattr(mod, "__file__", "") or "") != path:
        fail("import", "", ImportError(f"module {modname} resolved to {mod.__file__}, not {path}"))
        return emit()
    res["import_ok"] = True
    ents = _collect(mod, path)
    res["entities"] = {k: [a for a, _ in v] for k, v in ents.items()}

    # compile (a failed compile leaves flytekit's workflow half-built, so it is not serialized)
    failed_wf = set()
    for attr, wf in ents["workflows"]:
        comp = getattr(wf, "compile", None)
        if comp is None:
            continue
        try:
            comp()
        except BaseException as e:  # noqa: BLE001
            if isinstance(e, KeyboardInterrupt):
                raise
            failed_wf.add(id(wf))
            fail("compile", f"workflow {attr}", e)
    res["compile_ok"] = not failed_wf
    if failed_wf:
        return emit()

    # serialize, like `pyflyte package`: entities and each workflow's default launch plan
    settings = SerializationSettings(
        image_config=ImageConfig.auto_default_image(),
        project="fledge-ground-truth", domain="development", version="v0",
    )
    ok = True
    todo: List[Tuple[str, str, Any]] = []
    for kind in ("tasks", "workflows", "launch_plans"):
        todo.extend((kind[:-1], attr, obj) for attr, obj in ents[kind])
    for kind, attr, obj in todo:
        try:
            get_serializable(OrderedDict(), settings, obj)
            if kind == "workflow":
                ctx = FlyteContextManager.current_context()
                lp = LaunchPlan.get_default_launch_plan(ctx, obj)
                get_serializable(OrderedDict(), settings, lp)
        except BaseException as e:  # noqa: BLE001 - RecursionError for `>>` cycles, too
            if isinstance(e, KeyboardInterrupt):
                raise
            ok = False
            fail("serialize", f"{kind} {attr}", e)
    res["serialize_ok"] = ok
    if ok:
        res["stage"] = "ok"
    return emit()


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        sys.exit(child(sys.argv[2], sys.argv[3], sys.argv[4]))
    sys.exit(main(sys.argv[1:]))
