"""unknown-input: a task is called with a keyword it does not declare.

flytekit: workflow compile fails, AssertionError "Received unexpected keyword argument 'discount'".
"""
from flytekit import task, workflow


@task
def order_total(quantity: int, unit_price: float) -> float:
    return quantity * unit_price


@workflow
def checkout(quantity: int, unit_price: float) -> float:
    return order_total(quantity=quantity, unit_price=unit_price, discount=0.1)  # expect: unknown-input
