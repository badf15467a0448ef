"""invalid-resources: a resource request that is not a Kubernetes quantity.

flytekit: accepts it (the string is copied into the task template unparsed; import, compile and
serialization succeed). FlyteAdmin rejects the task at registration (task_validator.go,
resource.ParseQuantity): INVALID_ARGUMENT "Parsing of CPU request failed for value 1 core".
"""
from flytekit import Resources, task, workflow


@task(requests=Resources(cpu="1 core", mem="256Mi"))  # expect: invalid-resources
def price_orders(quantity: int, unit_price: float) -> float:
    return quantity * unit_price


@workflow
def pricing(quantity: int, unit_price: float) -> float:
    return price_orders(quantity=quantity, unit_price=unit_price)
