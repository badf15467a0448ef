"""dependency-cycle: explicit `>>` ordering edges form a cycle.

`a >> b` only adds b.upstream_nodes += [a]; flytekit never checks for cycles when the edges are
added or when the workflow compiles. Serialization (`get_serializable`, i.e. `pyflyte package` /
`register`) follows upstream nodes recursively and dies with RecursionError "maximum recursion
depth exceeded". A local Python run ignores the edges and succeeds. FlyteAdmin's compiler would
answer CycleDetected. (A data edge plus a reverse `>>` edge, e.g. `y = f(x=x); y >> x`, behaves
the same.)
"""
from flytekit import task, workflow


@task
def load_orders() -> int:
    return 3


@task
def load_prices() -> int:
    return 5


@workflow
def refresh() -> int:
    orders = load_orders()
    prices = load_prices()
    orders >> prices
    prices >> orders  # expect: dependency-cycle
    return prices
