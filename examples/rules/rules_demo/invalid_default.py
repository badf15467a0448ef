"""invalid-default: a workflow input's default does not have the input's type.

flytekit: decoration, workflow compile and workflow serialization succeed; building the
workflow's default launch plan (which `pyflyte register`/`package` always do) converts the
default and fails: TypeTransformerFailedError "Expected value of type <class 'int'> but got
'ten' of type <class 'str'>". flytekit is strict here: even `rate: float = 1` fails the same
way (int is not converted to float).
For a *task* input (`@task def t(n: int = "x")`) flytekit only fails when a workflow calls the
task without passing `n` (compile: "Failed to Bind variable 'n' ..."); otherwise task defaults
are never serialized and the bad default goes unnoticed.
"""
from flytekit import task, workflow


@task
def top_orders(limit: int) -> int:
    return min(limit, 100)


@workflow
def order_report(limit: int = "ten") -> int:  # expect: invalid-default
    return top_orders(limit=limit)
