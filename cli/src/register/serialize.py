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


def main():
    started = time.monotonic()
    request = json.loads(sys.argv[1])
    output = sys.argv[2]
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
    if os.environ.get("FLEDGE_SERIALIZE_NO_MEMO") != "1":
        memoize_literal_types()

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
                traceback.print_exc(file=sys.stderr)
                sys.stderr.write(f"\nfledge-serialize-error: {type(e).__name__}: {e}\n")
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


if __name__ == "__main__":
    try:
        main()
        # The output is written and closed: skip tearing down the interpreter, which frees every
        # object the project and flytekit made (over half a second on a 200-module project).
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
    except SystemExit:
        raise
    except BaseException as e:  # noqa: BLE001 - every failure is reported to fledge, with its traceback
        traceback.print_exc(file=sys.stderr)
        sys.stderr.write(f"\nfledge-serialize-error: {type(e).__name__}: {e}\n")
        sys.exit(1)
