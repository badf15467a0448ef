"""fledge register: serializes a flytekit project the way `pyflyte register` / `pyflyte package` do.

Run once per registration by fledge with the user's Python (found by fledge's pyenv discovery):

    python serialize.py REQUEST_JSON OUTPUT_PATH

REQUEST_JSON holds {"root", "targets", "project", "domain", "version", "images", "config_file",
"destination_dir", "distribution_location", "env", "service_account", "raw_data_prefix"}.
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


def main():
    request = json.loads(sys.argv[1])
    output = sys.argv[2]
    # User code may print at import time: keep fd 1 for nothing but our own messages.
    os.dup2(2, 1)

    import flytekit
    from flytekit.configuration import FastSerializationSettings, ImageConfig, SerializationSettings
    from flytekit.configuration.default_images import DefaultImages
    from flytekit.core.base_task import PythonTask
    from flytekit.core.context_manager import FlyteContextManager, FlyteEntities
    from flytekit.models import launch_plan as lp_models
    from flytekit.models.admin import workflow as wf_models
    from flytekit.models import task as task_models
    from flytekit.remote.remote import FlyteRemote, _get_git_repo_url
    from flytekit.tools import repo
    from flytekit.tools.translator import Options

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
    entities = repo.serialize_get_control_plane_entities(settings, root, options, is_registration=True)

    with open(output, "wb") as out:

        def frame(kind, name, data):
            name_bytes = name.encode()
            out.write(struct.pack("<II", kind, len(name_bytes)))
            out.write(name_bytes)
            out.write(struct.pack("<I", len(data)))
            out.write(data)

        for e in entities:
            if isinstance(e, task_models.TaskSpec):
                frame(1, e.template.id.name, e.to_flyte_idl().SerializeToString(deterministic=True))
            elif isinstance(e, wf_models.WorkflowSpec):
                pb = e.to_flyte_idl()
                sort_upstream(pb.template.nodes)
                for sub in pb.sub_workflows:
                    sort_upstream(sub.nodes)
                frame(2, e.template.id.name, pb.SerializeToString(deterministic=True))
            elif isinstance(e, lp_models.LaunchPlan):
                frame(3, e.id.name, e.spec.to_flyte_idl().SerializeToString(deterministic=True))
        trailer = {"flytekit_version": flytekit.__version__, "images": sorted(set(used_images)), "modules": modules}
        frame(0, "", json.dumps(trailer).encode())


if __name__ == "__main__":
    try:
        main()
    except SystemExit:
        raise
    except BaseException as e:  # noqa: BLE001 - every failure is reported to fledge, with its traceback
        traceback.print_exc(file=sys.stderr)
        sys.stderr.write(f"\nfledge-serialize-error: {type(e).__name__}: {e}\n")
        sys.exit(1)
