"""return-mismatch: the workflow declares two outputs but returns one value.

flytekit: workflow compile fails, AssertionError "The Workflow specification indicates multiple
return values, received only one".
(A single output of the wrong *type*, e.g. `-> int` returning a str promise, is not checked by
flytekit; FlyteAdmin rejects that one with MismatchingTypes.)
"""
import typing

from flytekit import task, workflow


@task
def summarize(prices: typing.List[float]) -> float:
    return sum(prices)


@workflow
def price_summary(prices: typing.List[float]) -> typing.Tuple[float, int]:
    total = summarize(prices=prices)
    return total  # expect: return-mismatch
