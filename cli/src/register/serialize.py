"""fledge register: serializes a flytekit project the way `pyflyte register` / `pyflyte package` do.

Run once per registration by fledge with the user's Python (found by fledge's pyenv discovery):

    python serialize.py REQUEST_JSON OUTPUT_PATH

REQUEST_JSON holds {"root", "targets", "project", "domain", "version", "images", "config_file",
"destination_dir", "distribution_location", "location_from_stdin", "env", "service_account",
"raw_data_prefix"}. With "location_from_stdin", the modules are loaded first and then one JSON line
{"distribution_location": URL} is read from stdin (fledge uploads the bundle meanwhile).
The project's modules are imported with flytekit's own loader and settings, and every registrable
entity is written to OUTPUT_PATH, in flytekit's order, as length-prefixed frames:
    u32 kind (1 TaskSpec, 2 WorkflowSpec, 3 LaunchPlanSpec) | u32 name length | name | u32 size | bytes
(deterministic protobuf bytes, sent to FlyteAdmin as they are).
followed by one JSON trailer frame (kind 0) with the flytekit version and the images used.
Anything the user's code prints goes to stderr; a failure exits 1 with the message on stderr.
"""
import json
import os
import struct
import sys
import time
import traceback


def sort_upstream(nodes):
    """flytekit collects a node's upstream nodes in a set of Node objects (hashed by identity), so the
    order of `upstream_node_ids` changes from run to run, and FlyteAdmin would see the same workflow
    as a different one. They are a set: sort them, so the same code always gives the same bytes."""
    for n in nodes:
        ids = sorted(n.upstream_node_ids)
        del n.upstream_node_ids[:]
        n.upstream_node_ids.extend(ids)
        if n.HasField("branch_node"):
            ie = n.branch_node.if_else
            inner = [ie.case.then_node] + [c.then_node for c in ie.other]
            if ie.HasField("else_node"):
                inner.append(ie.else_node)
            sort_upstream(inner)
        if n.HasField("array_node"):
            sort_upstream([n.array_node.node])


def memoize_literal_types():
    """flytekit converts the same Python types to Flyte types again for every task and workflow
    interface (a dataclass's JSON schema is rebuilt each time): on a large project that is half of
    the serialization time. The conversion is a pure function of the type and of the registered type
    transformers, so remember it per type and forget everything whenever a transformer is registered.
    Every caller gets its own top-level object, as with flytekit: its callers rebind attributes of
    the object they get (the union transformer sets `_structure` on its variants' types) but never
    change nested values in place."""
    import copy

    from flytekit.core.type_engine import TypeEngine

    convert = TypeEngine.to_literal_type.__func__
    cache = {}

    def to_literal_type(cls, python_type):
        try:
            hit = cache.get(python_type)
        except TypeError:  # an unhashable annotation: convert it every time, as flytekit does
            return convert(cls, python_type)
        if hit is None:
            hit = cache[python_type] = convert(cls, python_type)
        return copy.copy(hit)

    def forgetting(name):
        register = getattr(TypeEngine, name).__func__

        def wrapper(cls, *args, **kwargs):
            cache.clear()
            return register(cls, *args, **kwargs)

        setattr(TypeEngine, name, classmethod(wrapper))

    for name in ("register", "register_restricted_type", "register_additional_type"):
        forgetting(name)
    TypeEngine.to_literal_type = classmethod(to_literal_type)


# Set in a request's process forked from a warm server (reported in the trailer).
WARM = False
# Called once the request's process has read all fledge sends (set by a warm server's request
# where the peer's hang-up cannot be polled).
ON_LOCATION = None

# The flytekit modules `main` imports, which a warm server imports once for all its requests.
FLYTEKIT_MODULES = [
    "flytekit",
    "flytekit.clis.sdk_in_container.helpers",
    "flytekit.configuration",
    "flytekit.configuration.default_images",
    "flytekit.core.base_task",
    "flytekit.core.context_manager",
    "flytekit.core.workflow",
    "flytekit.models.admin.workflow",
    "flytekit.models.launch_plan",
    "flytekit.models.task",
    "flytekit.remote.remote",
    "flytekit.tools.repo",
    "flytekit.tools.translator",
]


def main(argv, started):
    request = json.loads(argv[0])
    output = argv[1]
    # User code may print at import time: keep fd 1 for nothing but our own messages.
    os.dup2(2, 1)

    import flytekit
    from flytekit.configuration import FastSerializationSettings, ImageConfig, SerializationSettings
    from flytekit.configuration.default_images import DefaultImages
    from flytekit.core.base_task import PythonTask
    from flytekit.core.context_manager import FlyteEntities
    from flytekit.core.workflow import WorkflowBase
    from flytekit.models import launch_plan as lp_models
    from flytekit.models.admin import workflow as wf_models
    from flytekit.models import task as task_models
    from flytekit.remote.remote import FlyteRemote, _get_git_repo_url
    from flytekit.tools import repo
    from flytekit.tools.translator import Options

    imported = time.monotonic()
    if os.environ.get("FLEDGE_SERIALIZE_PLAIN") != "1":  # "1": flytekit exactly as it is, for tests
        memoize_literal_types()
        shortcut_return_check()

    root = request["root"]
    images = tuple(request.get("images") or [DefaultImages.default_image()])
    image_config = ImageConfig.validate_image(None, "image", images)
    if request.get("config_file"):
        from flytekit.clis.sdk_in_container.helpers import patch_image_config

        image_config = patch_image_config(request["config_file"], image_config)

    settings = SerializationSettings(
        project=request["project"],
        domain=request["domain"],
        version=request["version"],
        image_config=image_config,
        fast_serialization_settings=None,
        env=request.get("env") or None,
    )
    settings = settings.new_builder().build()
    settings.git_repo = _get_git_repo_url(root)
    options = Options.default_from(
        k8s_service_account=request.get("service_account") or "",
        raw_data_prefix=request.get("raw_data_prefix") or "",
    )
    modules = repo.list_packages_and_modules(root, list(request["targets"]))
    repo.serialize_load_only(modules, settings, root)
    loaded = time.monotonic()

    if request.get("location_from_stdin"):
        # fledge started us before it knew where the bundle goes (the upload runs meanwhile).
        line = sys.stdin.readline()
        if not line:
            sys.exit(3)  # fledge went away
        request["distribution_location"] = json.loads(line)["distribution_location"]
    if ON_LOCATION is not None:
        ON_LOCATION()
    located = time.monotonic()
    if request.get("distribution_location"):
        settings.fast_serialization_settings = FastSerializationSettings(
            enabled=True,
            destination_dir=request.get("destination_dir") or "/root",
            distribution_location=request["distribution_location"],
        )
    used_images = []
    for entity in FlyteEntities.entities.copy():
        if isinstance(entity, PythonTask):
            used_images.extend(FlyteRemote._get_image_names(entity))

    def serialize(out):
        for e in repo.serialize_get_control_plane_entities(settings, root, options, is_registration=True):
            if isinstance(e, task_models.TaskSpec):
                write_frame(out, 1, e.template.id.name, e.to_flyte_idl().SerializeToString(deterministic=True))
            elif isinstance(e, wf_models.WorkflowSpec):
                pb = e.to_flyte_idl()
                sort_upstream(pb.template.nodes)
                for sub in pb.sub_workflows:
                    sort_upstream(sub.nodes)
                write_frame(out, 2, e.template.id.name, pb.SerializeToString(deterministic=True))
            elif isinstance(e, lp_models.LaunchPlan):
                write_frame(out, 3, e.id.name, e.spec.to_flyte_idl().SerializeToString(deterministic=True))

    with open(output, "wb") as out:
        chunks = split_for_workers(FlyteEntities.entities.copy(), WorkflowBase)
        if len(chunks) == 1:
            serialize(out)
        else:
            serialize_in_forks(chunks, FlyteEntities.entities, serialize, output, out)
        seconds = {
            "import": imported - started,
            "load": loaded - imported,
            "wait_for_upload": located - loaded,
            "serialize": time.monotonic() - located,
        }
        trailer = {
            "flytekit_version": flytekit.__version__,
            "images": sorted(set(used_images)),
            "modules": modules,
            "workers": len(chunks),
            "warm": WARM,
            "seconds": {k: round(v, 3) for k, v in seconds.items()},
        }
        write_frame(out, 0, "", json.dumps(trailer).encode())


def write_frame(out, kind, name, data):
    name_bytes = name.encode()
    out.write(struct.pack("<II", kind, len(name_bytes)))
    out.write(name_bytes)
    out.write(struct.pack("<I", len(data)))
    out.write(data)


def read_frames(path):
    with open(path, "rb") as f:
        data = f.read()
    at = 0
    while at < len(data):
        kind, n = struct.unpack_from("<II", data, at)
        at += 8
        name = data[at : at + n].decode()
        at += n
        (size,) = struct.unpack_from("<I", data, at)
        at += 4
        yield kind, name, data[at : at + size]
        at += size


# Serializing a workflow (compiling it, converting every interface) costs several times a task.
WORKFLOW_WEIGHT = 6
# Below this much work a fork costs more than it saves.
MIN_WEIGHT_PER_WORKER = 120


def shortcut_return_check():
    """flytekit refuses a function whose annotation promises outputs but whose source holds neither
    "return" nor "yield" (`has_return_statement`), and finds the function's source block by
    tokenizing it: a quarter of the time it takes to load a large project. That block always holds
    the lines from the function's first line (its first decorator) to its last line of code, so when
    those lines contain either word the answer is yes without tokenizing anything; otherwise
    flytekit's own check decides. Same answers, same exceptions."""
    import inspect
    import linecache

    from flytekit.core import interface

    check = interface.has_return_statement

    def has_return_statement(fn):
        try:
            code = inspect.unwrap(fn).__code__
            linecache.checkcache(code.co_filename)  # as inspect does: a file changed on disk is re-read
            last = max((line for _, _, line in code.co_lines() if line is not None), default=0)
            lines = linecache.getlines(code.co_filename)[code.co_firstlineno - 1 : last]
            if any("return" in line or "yield" in line for line in lines):
                return True
        except Exception:  # noqa: BLE001 - anything unusual: flytekit's check, with its own errors
            pass
        return check(fn)

    interface.has_return_statement = has_return_statement


def split_for_workers(entities, workflow_class):
    """Contiguous slices of flytekit's entity list of about equal work, one per core (at most 4).
    Contiguous, so that the slices' outputs, concatenated with later duplicates dropped, are in the
    order of one sequential serialization."""
    weights = [WORKFLOW_WEIGHT if isinstance(e, workflow_class) else 1 for e in entities]
    total = sum(weights)
    override = os.environ.get("FLEDGE_SERIALIZE_WORKERS")
    cores = int(override) if override else min(os.cpu_count() or 1, 4, total // MIN_WEIGHT_PER_WORKER)
    if cores <= 1 or not hasattr(os, "fork"):
        return [entities]
    chunks, current, acc = [], [], 0
    for e, w in zip(entities, weights):
        current.append(e)
        acc += w
        if acc >= total * (len(chunks) + 1) / cores and len(chunks) < cores - 1:
            chunks.append(current)
            current = []
    chunks.append(current)
    return [c for c in chunks if c]


def serialize_in_forks(chunks, registry, serialize, output, out):
    """Serializes each slice in a forked child (the modules are loaded once, in this process) and
    writes their entities to `out` in order, each (kind, name) once."""
    children = []
    for i, chunk in enumerate(chunks):
        part = f"{output}.part{i}"
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                registry[:] = chunk
                with open(part, "wb") as f:
                    serialize(f)
            except BaseException as e:  # noqa: BLE001 - reported like a failure of the parent
                report_failure(e)
                code = 1
            sys.stderr.flush()
            os._exit(code)
        children.append((pid, part))
    failed = False
    for pid, _ in children:
        _, status = os.waitpid(pid, 0)
        if os.WIFSIGNALED(status):
            sys.stderr.write(
                f"\nfledge-serialize-error: a serializing process was killed by signal {os.WTERMSIG(status)}"
                " (set FLEDGE_SERIALIZE_WORKERS=1 to serialize in one process)\n"
            )
        failed = failed or status != 0
    try:
        if failed:
            sys.exit(1)  # the child (or the lines above) said why
        seen = set()
        for _, part in children:
            for kind, name, data in read_frames(part):
                if (kind, name) not in seen:
                    seen.add((kind, name))
                    write_frame(out, kind, name, data)
    finally:
        for _, part in children:
            try:
                os.unlink(part)
            except OSError:
                pass


def report_failure(e):
    """The traceback, then the line fledge shows as the reason (call while handling `e`)."""
    traceback.print_exc(file=sys.stderr)
    sys.stderr.write(f"\nfledge-serialize-error: {type(e).__name__}: {e}\n")


def run_and_exit(argv, started, report=None):
    """Runs one serialization and ends the process with its exit status (0, 1 failed, 3 fledge went
    away), without the interpreter teardown, which frees every object the project and flytekit made
    (over half a second on a 200-module project). `report(code)` is told the status first."""
    code = 0
    try:
        main(argv, started)
    except SystemExit as e:
        if isinstance(e.code, int):
            code = e.code
        elif e.code is not None:
            sys.stderr.write(f"\nfledge-serialize-error: {e.code}\n")
            code = 1
    except BaseException as e:  # noqa: BLE001 - every failure is reported to fledge, with its traceback
        report_failure(e)
        code = 1
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:  # noqa: BLE001 - a closed stream must not keep the status from fledge
        pass
    if report is not None:
        report(code)
    os._exit(code)


# ---------------------------------------------------------------------------------------------
# Warm server: `python serialize.py --serve SOCKET IDLE_SECONDS PREIMPORT_JSON`, started by fledge
# in the project's root folder, in a session of its own.
#
# Imports flytekit and the project's third-party modules once, listens on a Unix socket (0600,
# only this user's processes are served) and forks one process per request, which then runs
# `main` exactly as a fresh interpreter would, minus those imports. Protocol, one connection per
# request, lines of UTF-8:
#   fledge -> server  {"argv": [REQUEST_JSON, OUTPUT], "env": {...}, "cwd": DIR, "stderr": PATH,
#                      "preimport": [MODULE, ...]}
#   server -> fledge  "stale" (then closes: an imported file changed; the server has left)
#                     or "pid N" from the forked process, whose stdout/stderr go to PATH
#   fledge -> child   the location line of `location_from_stdin`, if the request waits for it
#   child -> fledge   "exit N" when done (a closed connection without it: the process died)
# fledge keeps its end open until it has the status: the child stops (exit 3) when it closes
# early, as a fresh interpreter dies with fledge.
# The server leaves after IDLE_SECONDS without a request, when its socket file is removed or
# replaced, when a file of an imported module (or a folder on sys.path, or a .pth file there)
# changed since it imported it, so an upgrade of flytekit or of a library is never served from
# stale memory, and when a library it imported adds Flyte entities or type transformers (they
# would be registered out of order, or when the targets do not import it): it names the module in
# SOCKET.skip, and fledge leaves it out of later servers.
# ---------------------------------------------------------------------------------------------

# Longest a batch of imports in the server may take (a library that waits on the network).
IMPORT_SECONDS = 120


def is_lazy(m):
    """A module importlib's LazyLoader has not loaded yet (without loading it)."""
    import importlib.util

    return isinstance(m, importlib.util._LazyModule)


def module_file(m):
    """A module's file without touching its attributes (a lazily loaded module would load)."""
    try:
        f = object.__getattribute__(m, "__dict__").get("__file__")
    except Exception:  # noqa: BLE001 - an odd object in sys.modules has no file for us
        return None
    return f if isinstance(f, str) else None


def environment_stamp(paths=None):
    """(mtime, ctime, size, inode) of every imported module file, of every folder on sys.path but
    the first (this script's folder, where fledge keeps its cache files; missing folders too: one
    may appear) and of the .pth files in them; only of `paths` when given."""
    if paths is None:
        paths = set(p for p in sys.path[1:] if p)
        for d in list(paths):
            try:
                paths.update(os.path.join(d, f) for f in os.listdir(d) if f.endswith(".pth"))
            except OSError:
                pass
        for m in list(sys.modules.values()):
            f = module_file(m)
            if f:
                paths.add(f)
    stamp = {}
    for p in paths:
        try:
            st = os.stat(p)
            stamp[p] = (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino)
        except OSError:
            stamp[p] = None
    return stamp


class Server:
    def __init__(self, socket_path, idle_seconds):
        self.socket_path = socket_path
        self.idle_seconds = idle_seconds
        self.failed = set()  # modules that did not import here (never retried by this server)
        self.stamp = {}
        self.listener = None
        self.inode = None

    @staticmethod
    def flytekit_registries():
        """What importing a library may add to flytekit's process-wide state: entities (a package
        of shared tasks) and type transformers or dataframe handlers (a plugin). A library that
        adds any is not kept in a server: where and whether it is imported changes the output."""
        from flytekit.core.context_manager import FlyteEntities
        from flytekit.core.type_engine import TypeEngine
        from flytekit.types.structured.structured_dataset import StructuredDatasetTransformerEngine as Sd

        handlers = sum(len(f) for by_type in (Sd.ENCODERS, Sd.DECODERS) for p in by_type.values() for f in p.values())
        return (len(FlyteEntities.entities), len(TypeEngine._REGISTRY), len(TypeEngine._RESTRICTED_TYPES), handlers)

    def import_modules(self, names):
        """Imports what is not imported yet, each failure remembered, the whole batch bounded by
        IMPORT_SECONDS. Returns the first module whose import added to flytekit's registries (see
        `flytekit_registries`), or None."""
        import importlib
        import signal

        def too_long(*_):
            raise TimeoutError(f"importing took more than {IMPORT_SECONDS}s")

        signal.signal(signal.SIGALRM, too_long)
        signal.alarm(IMPORT_SECONDS)
        try:
            for name in names:
                if name in self.failed or (name in sys.modules and not is_lazy(sys.modules[name])):
                    continue
                before = self.flytekit_registries()
                try:
                    # flytekit puts some libraries (pandas, pyarrow) in sys.modules as lazy modules,
                    # loaded on first use: the project uses them, so load them now.
                    module = importlib.import_module(name)
                    if is_lazy(module):
                        getattr(module, "__name__", None)
                except BaseException as e:  # noqa: BLE001 - the request's own import reports it, if it matters
                    self.failed.add(name)
                    sys.stderr.write(f"not preloaded: {name}: {type(e).__name__}: {e}\n")
                if self.flytekit_registries() != before:
                    return name
        finally:
            signal.alarm(0)
        return None

    def skip_and_leave(self, module):
        with open(self.socket_path + ".skip", "a", encoding="utf-8") as f:
            f.write(module + "\n")
        sys.stderr.write(
            f"{module} adds Flyte entities or type transformers when imported: left out of the warm serializer\n"
        )
        self.leave()

    def still_ours(self):
        try:
            return self.inode is not None and os.stat(self.socket_path).st_ino == self.inode
        except OSError:
            return False

    def stop_listening(self):
        if self.still_ours():
            os.unlink(self.socket_path)
        if self.listener is not None:
            self.listener.close()

    def leave(self):
        self.stop_listening()
        sys.stderr.flush()
        os._exit(0)

    def serve(self, preimport):
        import signal
        import socket

        started = time.monotonic()
        self.import_modules(FLYTEKIT_MODULES)  # (flytekit's own registrations are not a library's)
        if "flytekit" in self.failed:
            sys.exit("flytekit cannot be imported")
        tainted = self.import_modules(preimport)
        if tainted:
            self.skip_and_leave(tainted)
        # Requests' processes are reaped by the kernel (set after the imports: a library that runs
        # a command while it is imported still sees its exit status).
        signal.signal(signal.SIGCHLD, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, lambda *_: self.leave())

        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        # Not longer than the socket's own name (Unix socket paths are short).
        tmp = os.path.join(os.path.dirname(self.socket_path), f"t{os.getpid()}")
        self.listener.bind(tmp)
        os.chmod(tmp, 0o600)
        self.listener.listen(16)
        os.replace(tmp, self.socket_path)  # clients never see a socket that is not listening yet
        self.inode = os.stat(self.socket_path).st_ino
        self.stamp = environment_stamp()
        sys.stderr.write(f"serving {self.socket_path} (ready in {time.monotonic() - started:.2f}s)\n")
        sys.stderr.flush()

        last = time.monotonic()
        self.listener.settimeout(min(5.0, self.idle_seconds))
        while True:
            try:
                conn, _ = self.listener.accept()
            except socket.timeout:
                if time.monotonic() - last > self.idle_seconds or not self.still_ours():
                    self.leave()
                continue
            last = time.monotonic()
            try:
                self.handle(conn)
            except Exception:  # noqa: BLE001 - one bad request must not take the server down
                traceback.print_exc(file=sys.stderr)
                sys.stderr.flush()
            finally:
                conn.close()

    def handle(self, conn):
        import socket
        import struct as _struct

        conn.setblocking(True)
        peercred = getattr(socket, "SO_PEERCRED", None)  # Linux; elsewhere the 0600 socket decides
        if peercred is not None:
            creds = conn.getsockopt(socket.SOL_SOCKET, peercred, _struct.calcsize("3i"))
            if _struct.unpack("3i", creds)[1] != os.getuid():
                return
        reader = conn.makefile("r", encoding="utf-8")
        line = reader.readline()
        if not line:
            return
        request = json.loads(line)
        now = environment_stamp(self.stamp)
        changed = [p for p, before in self.stamp.items() if now[p] != before]
        if changed:
            sys.stderr.write(f"leaving: {changed[0]} changed since it was imported\n")
            self.stop_listening()  # no new request may land here while this one is told
            conn.sendall(b"stale\n")
            self.leave()
        if os.fork() == 0:
            try:
                serve_one(conn, reader, request, self.listener)
            finally:
                os._exit(1)  # only if it failed before the serialization started: never back to the loop
        # The connection is the request's process's now (fledge must see its end when that dies).
        reader.close()
        conn.close()
        # The project's libraries this server does not have yet (new imports in the project): for
        # the next requests; this one's process imports them itself.
        tainted = self.import_modules(request.get("preimport") or [])
        for path, st in environment_stamp(
            set(f for f in map(module_file, list(sys.modules.values())) if f) - set(self.stamp)
        ).items():
            self.stamp[path] = st
        if tainted:
            self.skip_and_leave(tainted)


def serve_one(conn, reader, request, listener):
    """In the process forked for one request: becomes what a fresh serializer would be, and runs."""
    global WARM, ON_LOCATION
    WARM = True
    started = time.monotonic()
    import signal
    import threading

    for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGALRM):
        signal.signal(sig, signal.SIG_DFL)
    os.setpgid(0, 0)  # a group of its own (with its forked workers), for fledge to stop at once
    listener.close()
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    err = os.open(request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(err, 1)
    os.dup2(err, 2)
    os.close(null)
    os.close(err)
    os.environ.clear()
    os.environ.update(request.get("env") or {})
    os.chdir(request["cwd"])
    sys.argv = [sys.argv[0]] + list(request["argv"])
    sys.stdin = reader

    # The end of fledge's side of the connection means fledge went away (Ctrl-C, killed): stop, as a
    # fresh interpreter in fledge's process group would. On Linux, poll for the peer's hang-up from
    # the start; elsewhere, read the end once fledge has sent everything (after the location).
    import select

    rdhup = getattr(select, "POLLRDHUP", None)

    def watch_hangup():
        poller = select.poll()
        poller.register(conn.fileno(), rdhup | select.POLLHUP | select.POLLERR)
        while True:
            for _, events in poller.poll():
                if events & (rdhup | select.POLLHUP | select.POLLERR):
                    stop()

    def watch_end():
        try:
            while conn.recv(1024):
                pass
        except OSError:
            pass
        stop()

    def stop():
        """This process and the serializing processes it forked (its process group)."""
        os.killpg(0, signal.SIGKILL)

    if rdhup is not None:
        threading.Thread(target=watch_hangup, daemon=True).start()
    else:
        ON_LOCATION = lambda: threading.Thread(target=watch_end, daemon=True).start()  # noqa: E731
    conn.sendall(f"pid {os.getpid()}\n".encode())

    def report(code):
        try:
            conn.sendall(f"exit {code}\n".encode())
        except OSError:
            pass

    run_and_exit(request["argv"], started, report)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        Server(sys.argv[2], float(sys.argv[3])).serve(json.loads(sys.argv[4]))
    else:
        run_and_exit(sys.argv[1:], time.monotonic())
