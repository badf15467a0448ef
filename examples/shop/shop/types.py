"""Data model shared by the shop tasks and workflows."""
import enum
import typing
from dataclasses import dataclass, field
from typing import List, Optional


class Currency(enum.Enum):
    EUR = "EUR"
    USD = "USD"
    GBP = "GBP"


@dataclass
class Address:
    street: str
    city: str
    postcode: Optional[str] = None


@dataclass
class Customer:
    customer_id: int
    name: str
    address: Address
    vip: bool = False


@dataclass
class OrderLine:
    sku: str
    quantity: int
    unit_price: float


@dataclass
class Order:
    order_id: str
    customer: Customer
    lines: List[OrderLine] = field(default_factory=list)
    coupon: Optional[str] = None


# Column-wise view of all order lines, so map tasks can fan out over them.
LineColumns = typing.NamedTuple(
    "LineColumns", [("skus", List[str]), ("quantities", List[int]), ("unit_prices", List[float])]
)


class PriceSummary(typing.NamedTuple):
    subtotal: float
    discount: float
    total: float
