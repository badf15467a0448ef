"""Workflows: price the orders (sub-workflow), then build the report."""
import functools
import typing
from typing import List

from flytekit import LaunchPlan, conditional, map_task, workflow
from flytekit.types.file import FlyteFile

from shop.orders import count_vips, explode_lines, generate_orders, orders_frame
from shop.types import Currency, PriceSummary

from . import pricing
from .reports import count_rows, headline, write_report

ShopReport = typing.NamedTuple(
    "ShopReport", [("report", FlyteFile["csv"]), ("headline", str), ("total", float)]
)


@workflow
def price_lines(quantities: List[int], unit_prices: List[float], currency: Currency) -> List[float]:
    """Per-line totals in the target currency (two map tasks, one over a functools.partial)."""
    totals_eur = map_task(pricing.line_total, concurrency=4)(quantity=quantities, unit_price=unit_prices)
    rate = pricing.exchange_rate(currency=currency)
    return map_task(functools.partial(pricing.convert, rate=rate))(amount=totals_eur)


@workflow
def shop_report(n_orders: int = 6, currency: Currency = Currency.EUR, apply_vip: bool = True) -> ShopReport:
    orders = generate_orders(n_orders=n_orders)
    lines = explode_lines(orders=orders)
    amounts = price_lines(quantities=lines.quantities, unit_prices=lines.unit_prices, currency=currency)
    vips = count_vips(orders=orders)
    discount_rate = (
        conditional("discount_policy")
        .if_(apply_vip.is_true())
        .then(pricing.vip_discount_rate(vip_count=vips))
        .else_()
        .then(pricing.standard_discount_rate())
    )
    summary: PriceSummary = pricing.summarize(amounts=amounts, discount_rate=discount_rate)
    frame = orders_frame(skus=lines.skus, amounts=amounts)
    report = write_report(frame=frame, currency=currency)
    rows = count_rows(report=report)
    text = headline(total=summary.total, rows=rows, currency=currency, vip_count=vips)
    return ShopReport(report=report, headline=text, total=summary.total)


daily_usd_report = LaunchPlan.get_or_create(
    shop_report,
    name="daily_usd_report",
    default_inputs={"n_orders": 20},
    fixed_inputs={"currency": Currency.USD, "apply_vip": True},
)
