import sys

from pricing import cost, with_tax


class Ledger:
    def __init__(self):
        self.rows = []

    def add(self, name, amount):
        self.rows.append((name, amount))

    def total(self):
        return sum(a for _, a in self.rows)


ORDERS = [
    {"name": "tea", "qty": 2, "price": 3.5},
    {"name": "cake", "qty": 1, "price": None},
    {"name": "jam", "qty": 3, "price": 2.0},
]


def process(orders, ledger):
    for o in orders:
        amount = with_tax(cost(o))
        ledger.add(o["name"], amount)
        print(f"{o['name']:>5}: {amount:.2f}")
    return ledger.total()


def main():
    ledger = Ledger()
    total = process(ORDERS, ledger)
    print("total", total)
    return 0


if __name__ == "__main__":
    sys.exit(main())
