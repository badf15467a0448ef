"""missing-input: a required task input (no default) is not bound.

flytekit: workflow compile fails, FlyteAssertion "Input unit_price of type <class 'float'> was not specified".
"""
from flytekit import task, workflow


@task
def order_total(quantity: int, unit_price: float, discount: float = 0.0) -> float:
    return quantity * unit_price * (1.0 - discount)


@workflow
def checkout(quantity: int) -> float:
    return order_total(quantity=quantity)  # expect: missing-input
