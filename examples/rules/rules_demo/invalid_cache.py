"""invalid-cache: a Cache object combined with a deprecated cache keyword.

flytekit: import fails at decoration, ValueError "cache_serialize, cache_version, and
cache_ignore_input_vars are deprecated. Please use Cache object".
Other cache settings flytekit 1.16.31 rejects the same way (ValueError at decoration):
`cache=Cache()` and, with no flytekit plugin installed, plain `cache=True` without a version
("If version is not defined then at least one cache policy needs to be set"), and
`cache_serialize=True` without `cache` ("Cache serialize is enabled ... but ``cache`` is not enabled.").
"""
from flytekit import Cache, task, workflow


@task(cache=Cache(version="1.0"), cache_version="2.0")  # expect: invalid-cache
def exchange_rate(currency: str) -> float:
    return {"EUR": 1.0, "USD": 1.1}.get(currency, 1.0)


@workflow
def rates(currency: str) -> float:
    return exchange_rate(currency=currency)
