"""missing-annotation: a task input has no type annotation.

flytekit: import fails at decoration, FlyteMissingTypeException "'currency' has no type. Please
add a type annotation to the input parameter." (unless @task(pickle_untyped=True)).
"""
from flytekit import task, workflow


@task
def format_price(amount: float, currency) -> str:  # expect: missing-annotation
    return f"{amount:.2f} {currency}"


@workflow
def price_label(amount: float) -> str:
    return format_price(amount=amount, currency="EUR")
