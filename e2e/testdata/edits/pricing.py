"""Prices and taxes for orders."""
TAX = 0.2


def cost(o):
    return o["qty"] * o["price"]


def with_tax(x):
    return round(x * (1 + TAX), 2)
