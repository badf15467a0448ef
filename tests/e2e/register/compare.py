"""Reads every registered entity back with flytekit's FlyteRemote from two FlyteAdmin endpoints (one
registered by `fledge register`, one by `pyflyte register`, same project, domain and version) and
compares their specs.

Usage: python compare.py CONFIG_FLEDGE CONFIG_PYFLYTE PROJECT DOMAIN VERSION

Workflow nodes' upstream_node_ids are compared as sets (flytekit's order for them depends on the
hash seed). The one expected difference is the code bundle's location in the tasks' fast-registration arguments
(`pyflyte-fast-execute --additional-distribution <url>`): each tool uploads its own archive, whose
digest names it. It is reported, then normalised. Anything else that differs is printed and fails
the comparison (exit 1). Prints one JSON summary line last.
"""
import json
import pathlib
import re
import sys

from flytekit.configuration import Config
from flytekit.remote import FlyteRemote

# The same normalization fledge's serializer applies: upstream_node_ids are a set that flytekit
# emits in hash-seed order, so both sides are compared with them sorted.
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[3] / "cli" / "src" / "register"))
from serialize import sort_upstream  # noqa: E402

cfg_a, cfg_b, project, domain, version = sys.argv[1:6]


def remote(cfg):
    return FlyteRemote(Config.auto(config_file=cfg), default_project=project, default_domain=domain)


ra, rb = remote(cfg_a), remote(cfg_b)


def names(r, lister):
    out, token = set(), ""
    while True:
        ids, token = lister(project, domain, limit=100, token=token)
        out.update(i.name for i in ids)
        if not token:
            return out


kinds = {
    "task": (lambda c: c.list_task_ids_paginated, lambda r, n: r.fetch_task(name=n, version=version)),
    "workflow": (lambda c: c.list_workflow_ids_paginated, lambda r, n: r.fetch_workflow(name=n, version=version)),
    "launch_plan": (
        lambda c: c.list_launch_plan_ids_paginated,
        lambda r, n: r.fetch_launch_plan(name=n, version=version),
    ),
}



def task_args(e):
    c = e.template.container
    return list(c.args) if c is not None else []


problems, compared, differences = [], 0, []
for kind, (lister, fetch) in kinds.items():
    na, nb = names(ra, lister(ra.client)), names(rb, lister(rb.client))
    if na != nb:
        problems.append(f"{kind} names differ: only fledge {sorted(na - nb)}, only pyflyte {sorted(nb - na)}")
    for n in sorted(na & nb):
        ea, eb = fetch(ra, n), fetch(rb, n)
        compared += 1
        if kind == "task":
            aa, ab = task_args(ea), task_args(eb)
            if aa != ab:
                changed = [(x, y) for x, y in zip(aa, ab) if x != y]
                differences.append({"entity": f"task {n}", "fledge": [x for x, _ in changed], "pyflyte": [y for _, y in changed]})
                # Expected: only the bundle location differs.
                if len(aa) != len(ab) or any(
                    not (x.startswith("s3://") and y.startswith("s3://") and x.endswith(".tar.gz") and y.endswith(".tar.gz"))
                    for x, y in changed
                ):
                    problems.append(f"task {n}: container args differ beyond the bundle location: {changed}")
                # Compare the rest with fledge's args in place of pyflyte's.
                ta = ea.template.to_flyte_idl()
                tb = eb.template.to_flyte_idl()
                del tb.container.args[:]
                tb.container.args.extend(aa)
                if ta.SerializeToString(deterministic=True) != tb.SerializeToString(deterministic=True):
                    problems.append(f"task {n}: template differs beyond the bundle location:\n--- fledge\n{ta}\n--- pyflyte\n{tb}")
                continue
        if kind == "workflow":
            a = ea.template.to_flyte_idl()
            b = eb.template.to_flyte_idl()
            sort_upstream(a.nodes)
            sort_upstream(b.nodes)
        elif kind == "launch_plan":
            # FlyteLaunchPlan is a LaunchPlanSpec.
            a, b = ea.to_flyte_idl(), eb.to_flyte_idl()
        else:
            a = ea.template.to_flyte_idl()
            b = eb.template.to_flyte_idl()
        if a.SerializeToString(deterministic=True) != b.SerializeToString(deterministic=True):
            problems.append(f"{kind} {n}: spec differs:\n--- fledge\n{a}\n--- pyflyte\n{b}")

for p in problems:
    print("DIFFERENCE:", p, file=sys.stderr)
print(json.dumps({"compared": compared, "problems": len(problems), "expected_differences": differences}))
sys.exit(1 if problems or compared == 0 else 0)
