"""Prices a basket in a pool of worker processes started by
multiprocessing's spawn method (each a `python -c` child)."""
import multiprocessing as mp


def price(item):
    name, qty, unit = item
    return name, round(qty * unit, 2)  # line 8


if __name__ == "__main__":
    basket = [("café", 2, 1.2), ("thé", 1, 2.5), ("pain", 3, 0.9)]
    ctx = mp.get_context("spawn")
    with ctx.Pool(2) as pool:
        print("prices", dict(pool.map(price, basket)))
