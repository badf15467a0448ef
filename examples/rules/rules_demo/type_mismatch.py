"""type-mismatch: a str output is bound to an int input (promise to promise).

flytekit: accepts it (import, compile and serialization all succeed; flytekit only converts
*constants* at compile time). FlyteAdmin's compiler rejects it at registration:
MismatchingTypes "The output variable 'n0.o0' has type [simple:STRING], but it's assigned to the
input variable 'n1.quantity' which has type type [simple:INTEGER]."
"""
from flytekit import task, workflow


@task
def read_quantity(raw: str) -> str:
    return raw.strip()


@task
def reserve_stock(quantity: int) -> int:
    return max(quantity, 0)


@workflow
def reserve(raw: str) -> int:
    quantity = read_quantity(raw=raw)
    return reserve_stock(quantity=quantity)  # expect: type-mismatch
