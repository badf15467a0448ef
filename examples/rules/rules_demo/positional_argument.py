"""positional-argument: a launch plan is called with a positional argument.

What flytekit 1.16.31 does with positional arguments inside a workflow body (verified):
- tasks, @dynamic tasks, sub-workflows, reference tasks/workflows/launch plans and map_task over a
  task: ACCEPTED; flyte_entity_call_handler maps them onto the inputs in declaration order
  (too many -> "Received more arguments than expected", clash with a keyword -> "Got multiple
  values for argument").
- LaunchPlan.__call__: REJECTED, AssertionError "Only Keyword Arguments are supported for launch
  plan executions" (this file).
- create_node(entity, x): REJECTED, "Only keyword args are supported to pass inputs to workflows and tasks."
- map_task(launch_plan)(xs): positional args are silently dropped, then compile fails with
  "Input a of type typing.List[int] was not specified".
"""
from flytekit import LaunchPlan, task, workflow


@task
def add_tax(amount: float, rate: float) -> float:
    return round(amount * (1.0 + rate), 2)


@workflow
def taxed(amount: float, rate: float = 0.2) -> float:
    return add_tax(amount=amount, rate=rate)


taxed_standard = LaunchPlan.get_or_create(taxed, name="taxed_standard")


@workflow
def checkout(amount: float) -> float:
    return taxed_standard(amount)  # expect: positional-argument
