"""incomplete-conditional: a conditional() without else_() is used as a value.

flytekit: workflow compile fails, FlyteValidationException "Failed to bind output o0 for function
...: Expected value of type <class 'str'> but got 'condition(shipping) if_(...)' of type
<class 'flytekit.core.condition.Condition'>".
(Surprise: the same conditional used as a bare *statement* compiles and serializes without an
error, but the workflow then has no nodes at all and its output binds to a missing node.)
"""
from flytekit import conditional, task, workflow


@task
def express_shipping(weight_kg: float) -> str:
    return f"express ({weight_kg} kg)"


@task
def standard_shipping(weight_kg: float) -> str:
    return f"standard ({weight_kg} kg)"


@workflow
def choose_shipping(weight_kg: float) -> str:
    return (
        conditional("shipping")  # expect: incomplete-conditional
        .if_(weight_kg < 2.0)
        .then(express_shipping(weight_kg=weight_kg))
        .elif_(weight_kg < 20.0)
        .then(standard_shipping(weight_kg=weight_kg))
    )
