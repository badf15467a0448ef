"""Pricing: per-line totals, currency conversion, discounts."""
from typing import Dict, List, Optional

import flytekit as fk

from shop.types import Currency, PriceSummary

RATES_FROM_EUR: Dict[str, float] = {"EUR": 1.0, "USD": 1.08, "GBP": 0.85}


@fk.task
def line_total(quantity: int, unit_price: float) -> float:
    return round(quantity * unit_price, 2)


@fk.task
def exchange_rate(currency: Currency) -> float:
    return RATES_FROM_EUR[currency.value]


@fk.task
def convert(amount: float, rate: float) -> float:
    return round(amount * rate, 2)


@fk.task(retries=1, requests=fk.Resources(cpu="100m", mem="128Mi"))
def summarize(amounts: List[float], discount_rate: float, coupon: Optional[str] = None) -> PriceSummary:
    subtotal = round(sum(amounts), 2)
    rate = discount_rate + (0.05 if coupon else 0.0)
    discount = round(subtotal * rate, 2)
    return PriceSummary(subtotal=subtotal, discount=discount, total=round(subtotal - discount, 2))


@fk.task
def vip_discount_rate(vip_count: int) -> float:
    return min(0.02 * vip_count, 0.2)


@fk.task
def standard_discount_rate() -> float:
    return 0.0
