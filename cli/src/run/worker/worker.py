"""fledge's task worker: runs flytekit tasks from an input LiteralMap to an output LiteralMap.

Started by `fledge run` as `python -u worker.py ROOT [ROOT...]` (ROOTs are the project's import roots).
The process imports flytekit once, then forks one child per task attempt, so an attempt costs a fork
and the import of the project's own modules, not an interpreter start and flytekit's import.

Children report the modules they imported (pandas, the project's own modules, ...) and the parent
imports them while it is idle, so later children inherit them already imported: a warm attempt costs
a fork, not an import. Before each fork the parent compares the files of the project modules it holds
with their (mtime, size) at import; on any change, or on `invalidate`, it forgets all project modules,
so children import them fresh from disk until the parent has learned them again.

Protocol (fd 0 carries requests, fd 1 responses; both are moved away from 0/1 at start so `print()`
goes to stderr and can never corrupt a frame). Responses start with the line
`fledge-worker-protocol-1`; after it, every message is one frame:

    u32 big-endian header length | header (JSON) | u32 big-endian body length | body (bytes)

Requests:  {"op": "run", "id", "module", "task", "raw_output_dir", "attempt", "log"} + LiteralMap bytes
           {"op": "kill", "id"}            kill that attempt (and its process group) if still running
           {"op": "invalidate", "modules"} drop cached bytecode of these modules
           end of input                     kill every child and exit
Responses: {"event": "ready", "python", "flytekit"}
           {"event": "fatal", "message", "traceback"}          the worker cannot start
           {"event": "done", "id", "status": "ok" | "dynamic"} + LiteralMap / DynamicJobSpec bytes
           {"event": "done", "id", "status": "failed", "kind": "user" | "system", "message",
            "traceback": [{"file", "line", "function"}], "recoverable"}
           {"event": "died", "id", "detail"}                  the child exited without a result

Each child writes its stdout and stderr to the request's "log" file.
"""

import gc
import json
import os
import selectors
import signal
import struct
import sys
import traceback

REQ_FD = os.dup(0)
RESP_FD = os.dup(1)
_devnull = os.open(os.devnull, os.O_RDONLY)
os.dup2(_devnull, 0)
os.close(_devnull)
os.dup2(2, 1)  # anything printed by the parent goes to stderr, which fledge drains
sys.stdout = os.fdopen(1, "w", buffering=1, closefd=False)
# Frames start after this marker: whatever the interpreter's start-up (a .pth file, sitecustomize)
# printed before this point is skipped by fledge.
os.write(RESP_FD, b"\nfledge-worker-protocol-1\n")

ROOTS = [os.path.realpath(r) for r in sys.argv[1:]] or [os.getcwd()]
for _r in reversed(ROOTS):
    if _r not in sys.path:
        sys.path.insert(0, _r)
_PREFIXES = tuple(
    sorted({os.path.abspath(p) + os.sep for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)})
    + sorted({os.path.realpath(p) + os.sep for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)})
)
_ROOT_PREFIXES = tuple(r + os.sep for r in ROOTS)
_FILE_CACHE = {}


def is_project_file(path):
    """A file of the user's project: under a root, outside any virtualenv or site-packages.

    String checks only (no syscalls): it runs over every module the worker holds."""
    if not path or path.startswith("<"):
        return False
    hit = _FILE_CACHE.get(path)
    if hit is None:
        p = os.path.abspath(path)
        hit = (
            p.startswith(_ROOT_PREFIXES)
            and not p.startswith(_PREFIXES)
            and os.sep + "site-packages" + os.sep not in p
            and os.sep + "dist-packages" + os.sep not in p
        )
        _FILE_CACHE[path] = hit
    return hit


def is_project_module(module):
    return is_project_file(getattr(module, "__file__", None) or "")


def write_all(fd, data):
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def frame(header, body=b""):
    h = json.dumps(header).encode()
    return struct.pack(">I", len(h)) + h + struct.pack(">I", len(body)) + body


def send(header, body=b""):
    write_all(RESP_FD, frame(header, body))


def frames_of(entries):
    """User frames of a traceback (all frames when none is the user's), innermost last."""
    user = [f for f in entries if is_project_file(f.filename)]
    return [{"file": f.filename, "line": f.lineno or 0, "function": f.name} for f in (user or entries)]


def failure(kind, exc, recoverable):
    entries = traceback.extract_tb(exc.__traceback__)
    frames = frames_of(entries)
    if isinstance(exc, SyntaxError) and exc.filename:
        frames.append({"file": exc.filename, "line": exc.lineno or 0, "function": "<module>"})
    text = str(exc).strip().splitlines()
    message = type(exc).__name__ + (": " + text[0] if text else "")
    return {"status": "failed", "kind": kind, "message": message, "traceback": frames, "recoverable": recoverable}


# ---------------------------------------------------------------------------------------------- parent
try:
    import flytekit
    from flyteidl.core import literals_pb2
    from flytekit.bin.entrypoint import setup_execution
    from flytekit.configuration import SERIALIZED_CONTEXT_ENV_VAR, ImageConfig, SerializationSettings
    from flytekit.core.base_task import IgnoreOutputs
    from flytekit.core.promise import VoidPromise
    from flytekit.exceptions.system import FlyteNonRecoverableSystemException
    from flytekit.exceptions.user import FlyteRecoverableException, FlyteUserRuntimeException
    from flytekit.models import dynamic_job as _dynamic_job
    from flytekit.models import literals as _literals
except BaseException as e:  # noqa: BLE001 - reported to fledge, which explains it
    send({"event": "fatal", **failure("system", e, False)})
    sys.exit(3)

try:
    # What registration hands a remote container: a dynamic task serializes the tasks it calls with it.
    SERIALIZED_CONTEXT = SerializationSettings(
        image_config=ImageConfig.auto_default_image(), project="fledge", domain="local", version="local"
    ).serialized_context
except Exception:  # noqa: BLE001 - only dynamic tasks need it; they will say what is missing
    SERIALIZED_CONTEXT = None

try:
    import ctypes

    _prctl = ctypes.CDLL(None, use_errno=True).prctl  # Linux: children die with the worker
    _PR_SET_PDEATHSIG = 1
except Exception:  # noqa: BLE001 - not Linux: a killed worker's children run on until they finish
    _prctl = None

signal.signal(signal.SIGINT, signal.SIG_IGN)  # fledge decides when the worker stops


def warm_up():
    """Runs flytekit's execution set-up once in the parent, so its lazy imports and caches are
    inherited and a child's set-up costs a few milliseconds instead of twenty. No thread starts."""
    import shutil
    import tempfile

    prefix = tempfile.mkdtemp(prefix="fledge-warm-up-")
    ours = bool(SERIALIZED_CONTEXT) and SERIALIZED_CONTEXT_ENV_VAR not in os.environ
    if ours:
        os.environ[SERIALIZED_CONTEXT_ENV_VAR] = SERIALIZED_CONTEXT
    try:
        with setup_execution(raw_output_data_prefix=prefix) as ctx:
            shutil.rmtree(ctx.file_access.local_sandbox_dir, ignore_errors=True)
    except Exception:  # noqa: BLE001 - only an optimization; children report real problems
        pass
    finally:
        if ours:
            del os.environ[SERIALIZED_CONTEXT_ENV_VAR]
        shutil.rmtree(prefix, ignore_errors=True)


class Child:
    def __init__(self, req_id, pid, fd):
        self.id = req_id
        self.pid = pid
        self.fd = fd
        self.buf = bytearray()
        self.reported = False


children = {}  # result fd -> Child
by_id = {}  # request id -> Child
reaping = []  # children whose pipe closed, waiting to be reaped
to_learn = []  # modules children imported that the parent has not (yet)
project_mtimes = {}  # project modules the parent imported -> (mtime, size) of their file
selector = selectors.DefaultSelector()
selector.register(REQ_FD, selectors.EVENT_READ)


def learn(names):
    for name in names:
        if name not in sys.modules and name not in to_learn:
            to_learn.append(name)


def learn_one():
    """Imports one module a child needed, so later children inherit it already imported."""
    import importlib

    name = to_learn.pop(0)
    if name in sys.modules:
        return
    before = set(sys.modules)
    try:
        importlib.import_module(name)
    except BaseException:  # noqa: BLE001 - children will import it themselves
        sys.modules.pop(name, None)
    for mod_name in set(sys.modules) - before:
        mod = sys.modules.get(mod_name)
        if mod is not None and is_project_module(mod):
            project_mtimes[mod_name] = mtime(mod.__file__)


def mtime(path):
    try:
        st = os.stat(path)
        return (st.st_mtime_ns, st.st_size)
    except OSError:
        return None


def drop_project_modules():
    """Forgets every project module the parent imported: children import them from disk again.

    All of them, not just the edited ones, because a module that imported names from an edited one
    holds the old objects."""
    for name, mod in list(sys.modules.items()):
        if is_project_module(mod):
            del sys.modules[name]
    project_mtimes.clear()
    to_learn.clear()


def check_fresh():
    """Before a fork: if a project module the parent holds changed on disk, drop them all (and the
    changed files' bytecode, which Python would trust if size and mtime in seconds still match)."""
    changed = []
    for name, stamp in project_mtimes.items():
        path = getattr(sys.modules.get(name), "__file__", None) or ""
        if mtime(path) != stamp:
            changed.append(path)
    if changed:
        drop_project_modules()
        for path in changed:
            remove_bytecode(path)


def remove_bytecode(source):
    import importlib.util

    try:
        os.unlink(importlib.util.cache_from_source(source))
    except (OSError, ValueError, NotImplementedError):
        pass


def invalidate(modules):
    """Drops the project's modules from the parent and removes the edited modules' cached bytecode,
    so an edit that kept the file's size within the same second is still seen."""
    drop_project_modules()
    for name in modules:
        rel = name.replace(".", os.sep)
        for base in sys.path:
            for candidate in (os.path.join(base, rel + ".py"), os.path.join(base, rel, "__init__.py")):
                if os.path.isfile(candidate):
                    remove_bytecode(candidate)


def kill_child(child):
    for kill in (os.killpg, os.kill):
        try:
            kill(child.pid, signal.SIGKILL)
        except OSError:
            pass


def start(header, body):
    check_fresh()
    gc.freeze()  # children then do not copy pages just because their collector walks inherited objects
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 70
        try:
            os.close(r)
            code = run_child(header, body, w)
        finally:
            os._exit(code)
    os.close(w)
    os.set_blocking(r, False)
    child = Child(header["id"], pid, r)
    children[r] = child
    by_id[child.id] = child
    selector.register(r, selectors.EVENT_READ)


def report(child):
    """Reports the child's result as soon as it is complete, without waiting for the pipe to close:
    a process the task started may hold the pipe open. Then ends the attempt as a finished container
    ends: everything left in its process group is killed. Returns whether it reported."""
    try:
        header_body = parse(child.buf)
    except Exception:  # noqa: BLE001 - something else wrote to the result pipe
        kill_child(child)
        return False
    if header_body is None:
        return False
    header, body = header_body
    child.reported = True
    learn(header.pop("learned", []))
    header["event"] = "done"
    header["id"] = child.id
    send(header, body)
    kill_child(child)
    return True


def close_child(child):
    selector.unregister(child.fd)
    os.close(child.fd)
    del children[child.fd]
    reaping.append(child)


def reap(child):
    """Collects an exited child; if it never reported, says how it died. False while it still runs."""
    try:
        pid, status = os.waitpid(child.pid, os.WNOHANG)
    except ChildProcessError:
        pid, status = child.pid, 0
    if pid == 0:
        return False
    by_id.pop(child.id, None)
    if not child.reported:
        if os.WIFSIGNALED(status):
            detail = f"was killed by signal {os.WTERMSIG(status)} ({signal.Signals(os.WTERMSIG(status)).name})"
        else:
            detail = f"exited with code {os.waitstatus_to_exitcode(status)} before reporting a result"
        send({"event": "died", "id": child.id, "detail": detail})
    return True


def parent_loop():
    reqbuf = bytearray()
    while True:
        timeout = None
        if to_learn:
            timeout = 0
        elif reaping:
            timeout = 0.01
        events = selector.select(timeout)
        if not events and to_learn:
            learn_one()
        for key, _ in events:
            fd = key.fd
            if fd == REQ_FD:
                data = os.read(REQ_FD, 1 << 20)
                if not data:
                    for child in list(by_id.values()):
                        kill_child(child)
                    return
                reqbuf += data
                while True:
                    msg = parse(reqbuf)
                    if msg is None:
                        break
                    handle(*msg)
                continue
            child = children[fd]
            try:
                data = os.read(fd, 1 << 20)
            except BlockingIOError:
                continue
            if data:
                child.buf += data
                if report(child):
                    close_child(child)
                continue
            close_child(child)  # closed without a complete result: reaping says how it died
        for child in list(reaping):
            if reap(child):
                reaping.remove(child)


def parse(buf):
    if len(buf) < 4:
        return None
    (hlen,) = struct.unpack(">I", buf[:4])
    if len(buf) < 8 + hlen:
        return None
    (blen,) = struct.unpack(">I", buf[4 + hlen : 8 + hlen])
    if len(buf) < 8 + hlen + blen:
        return None
    header = json.loads(bytes(buf[4 : 4 + hlen]))
    body = bytes(buf[8 + hlen : 8 + hlen + blen])
    del buf[: 8 + hlen + blen]
    return header, body


def handle(header, body):
    op = header.get("op")
    if op == "run":
        start(header, body)
    elif op == "kill":
        child = by_id.get(header.get("id"))
        if child is not None:
            kill_child(child)
    elif op == "invalidate":
        invalidate(header.get("modules", []))


# ----------------------------------------------------------------------------------------------- child
def run_child(header, body, result_fd):
    """Runs one attempt in the forked child; returns the exit code."""
    selector.close()
    for fd in list(children) + [REQ_FD, RESP_FD]:
        try:
            os.close(fd)
        except OSError:
            pass
    os.setpgid(0, 0)  # the attempt's own subprocesses die with it
    if _prctl is not None:
        _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() == 1:
            return 71
    signal.signal(signal.SIGINT, signal.default_int_handler)
    log = os.open(header["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o600)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    os.environ["FLYTE_ATTEMPT_NUMBER"] = str(header.get("attempt", 0))
    os.environ.setdefault("FLYTE_INTERNAL_TASK_NAME", f"{header['module']}.{header['task']}")
    before = set(sys.modules)

    result, out = execute(header, body)
    result["learned"] = sorted(
        name
        for name, mod in list(sys.modules.items())
        if name not in before and mod is not None and not name.startswith("__")
    )
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001
            pass
    write_all(result_fd, frame(result, out))
    os.close(result_fd)
    return 0


def execute(header, body):
    import importlib
    import shutil

    importlib.invalidate_caches()
    try:
        module = importlib.import_module(header["module"])
        task = getattr(module, header["task"])
    except BaseException as e:  # noqa: BLE001 - flytekit: a task that cannot load is the user's error
        traceback.print_exc()
        return failure("system", e, False), b""
    if not hasattr(task, "dispatch_execute"):
        message = f"TypeError: `{header['module']}.{header['task']}` is not a flytekit task"
        return {"status": "failed", "kind": "system", "message": message, "traceback": [], "recoverable": False}, b""
    if SERIALIZED_CONTEXT and SERIALIZED_CONTEXT_ENV_VAR not in os.environ:
        os.environ[SERIALIZED_CONTEXT_ENV_VAR] = SERIALIZED_CONTEXT
        os.environ.setdefault("FLYTE_INTERNAL_TASK_VERSION", "local")

    os.makedirs(header["raw_output_dir"], exist_ok=True)
    sandbox = None
    try:
        with setup_execution(raw_output_data_prefix=header["raw_output_dir"]) as ctx:
            sandbox = ctx.file_access.local_sandbox_dir
            inputs = _literals.LiteralMap.from_flyte_idl(literals_pb2.LiteralMap.FromString(body))
            outputs = task.dispatch_execute(ctx, inputs)
        if isinstance(outputs, _dynamic_job.DynamicJobSpec):
            return {"status": "dynamic"}, outputs.to_flyte_idl().SerializeToString()
        if isinstance(outputs, VoidPromise) or outputs is None:
            outputs = _literals.LiteralMap(literals={})
        if isinstance(outputs, _literals.LiteralMap):
            return {"status": "ok"}, outputs.to_flyte_idl().SerializeToString()
        raise TypeError(f"unexpected outputs from the task: {type(outputs).__name__}")
    except FlyteUserRuntimeException as e:
        # flytekit wraps what the user's code raised; only FlyteRecoverableException is retried.
        value = e.value
        if isinstance(value, IgnoreOutputs):
            return {"status": "ok"}, _literals.LiteralMap(literals={}).to_flyte_idl().SerializeToString()
        print_user_error(value)
        return failure("user", value, isinstance(value, FlyteRecoverableException)), b""
    except FlyteNonRecoverableSystemException as e:
        # flytekit could not convert the inputs or outputs (a value does not match the interface).
        cause = e.value if isinstance(getattr(e, "value", None), BaseException) else e
        print_user_error(cause)
        return failure("system", cause, False), b""
    except BaseException as e:  # noqa: BLE001 - flytekit treats any other error as a recoverable system error
        print_user_error(e)
        return failure("system", e, True), b""
    finally:
        if sandbox:
            shutil.rmtree(sandbox, ignore_errors=True)


def print_user_error(exc):
    sys.stderr.write("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))


if __name__ == "__main__":
    warm_up()
    send(
        {
            "event": "ready",
            "python": ".".join(map(str, sys.version_info[:3])),
            "flytekit": getattr(flytekit, "__version__", "unknown"),
        }
    )
    parent_loop()
