"""syntax-error: the module does not parse, so nothing in it can be imported or registered.

flytekit: import fails with SyntaxError "expected ':'" (Python's parser, before any decorator runs).
"""
from flytekit import task, workflow


@task
def normalize_price(price: float) -> float  # expect: syntax-error
    return round(price, 2)


@workflow
def price_pipeline(price: float) -> float:
    return normalize_price(price=price)
