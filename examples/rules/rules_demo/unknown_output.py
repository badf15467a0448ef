"""unknown-output: an output name the task does not declare is read from its result.

flytekit: workflow compile fails, AttributeError "'Output' object has no attribute 'median'"
(the result of a multi-output task is a namedtuple of promises). On a *single*-output promise,
`p.median` is not checked by flytekit: it becomes an attribute path that FlyteAdmin checks.
"""
import typing

from flytekit import task, workflow

PriceStats = typing.NamedTuple("PriceStats", [("count", int), ("mean", float)])


@task
def price_stats(prices: typing.List[float]) -> PriceStats:
    return PriceStats(count=len(prices), mean=sum(prices) / max(len(prices), 1))


@task
def format_price(value: float) -> str:
    return f"{value:.2f}"


@workflow
def report(prices: typing.List[float]) -> str:
    stats = price_stats(prices=prices)
    return format_price(value=stats.median)  # expect: unknown-output
