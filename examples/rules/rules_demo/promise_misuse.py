"""promise-misuse: a workflow body uses a promise as a Python value (`if` on a comparison).

Workflow bodies run once at compile time with promises, not values; use conditional().
flytekit: workflow compile fails, ValueError "Cannot perform truth value testing, This is a
limitation in python. For Logical `and\\or` use `&\\|` (bitwise) instead. Expr Comp(...)".
"""
from flytekit import task, workflow


@task
def order_total(quantity: int, unit_price: float) -> float:
    return quantity * unit_price


@task
def apply_discount(total: float) -> float:
    return total * 0.9


@workflow
def checkout(quantity: int, unit_price: float) -> float:
    total = order_total(quantity=quantity, unit_price=unit_price)
    if total > 100.0:  # expect: promise-misuse
        return apply_discount(total=total)
    return total
