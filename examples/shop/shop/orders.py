"""Tasks that produce and reshape orders."""
from typing import Dict, List

import pandas as pd
from flytekit import task

from shop.types import Address, Customer, LineColumns, Order, OrderLine

CATALOG: Dict[str, float] = {"apple": 0.5, "bread": 2.25, "cheese": 4.8, "coffee": 7.9}


@task
def generate_orders(n_orders: int, seed: int = 7) -> List[Order]:
    """Deterministic fake orders (no I/O): order i buys (i % 3) + 1 lines."""
    skus = sorted(CATALOG)
    orders: List[Order] = []
    for i in range(n_orders):
        customer = Customer(
            customer_id=100 + i,
            name=f"customer-{i}",
            address=Address(street=f"{i} Main St", city="Springfield", postcode=None if i % 2 else "12345"),
            vip=(i + seed) % 4 == 0,
        )
        lines = [
            OrderLine(sku=skus[(i + j + seed) % len(skus)], quantity=1 + (i + j) % 3,
                      unit_price=CATALOG[skus[(i + j + seed) % len(skus)]])
            for j in range(i % 3 + 1)
        ]
        orders.append(Order(order_id=f"o-{i:04d}", customer=customer, lines=lines,
                            coupon="WELCOME" if i == 0 else None))
    return orders


@task
def explode_lines(orders: List[Order]) -> LineColumns:
    skus: List[str] = []
    quantities: List[int] = []
    prices: List[float] = []
    for order in orders:
        for line in order.lines:
            skus.append(line.sku)
            quantities.append(line.quantity)
            prices.append(line.unit_price)
    return LineColumns(skus=skus, quantities=quantities, unit_prices=prices)


@task
def orders_frame(skus: List[str], amounts: List[float]) -> pd.DataFrame:
    frame = pd.DataFrame({"sku": skus, "amount": amounts})
    return frame.groupby("sku", as_index=False)["amount"].sum().round(2)


@task
def count_vips(orders: List[Order]) -> int:
    return sum(1 for o in orders if o.customer.vip)
