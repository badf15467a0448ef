"""unresolved-import (warning): an import of a project-local module that does not exist.

Python/flytekit: the module fails to import, ModuleNotFoundError "No module named
'rules_demo.discounts'"; nothing in it can be registered.
"""
from flytekit import task, workflow

from rules_demo.discounts import seasonal_discount  # expect: unresolved-import


@task
def discounted(total: float) -> float:
    return total * (1.0 - seasonal_discount)


@workflow
def checkout(total: float) -> float:
    return discounted(total=total)
