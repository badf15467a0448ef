"""Report tasks: write the CSV report and a one-line headline."""
import os
import tempfile

import pandas as pd
from flytekit import task as flyte_task
from flytekit.types.file import FlyteFile

from .types import Currency


@flyte_task
def write_report(frame: pd.DataFrame, currency: Currency) -> FlyteFile["csv"]:
    out_dir = tempfile.mkdtemp(prefix="shop-report-")
    path = os.path.join(out_dir, f"sales_{currency.value.lower()}.csv")
    frame.assign(currency=currency.value).to_csv(path, index=False)
    return FlyteFile(path)


@flyte_task
def count_rows(report: FlyteFile["csv"]) -> int:
    with open(report, encoding="utf-8") as fh:
        return max(sum(1 for _ in fh) - 1, 0)


@flyte_task
def headline(total: float, rows: int, currency: Currency, vip_count: int) -> str:
    return f"{rows} products, {vip_count} VIP customers, total {total:.2f} {currency.value}"
