"""pickle-fallback (warning): a task input whose class has no Flyte type transformer.

flytekit: accepts it; at decoration it logs a warning "Unsupported Type <class '...Basket'> found,
Flyte will default to use PickleFile as the transport. ..." and the input becomes a
`blob {format: PythonPickle}`. Import, compile and serialization succeed.
"""
from flytekit import task


class Basket:
    def __init__(self, items: dict):
        self.items = items


@task
def basket_size(basket: Basket) -> int:  # expect: pickle-fallback
    return len(basket.items)
