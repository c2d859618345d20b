"""A snapshot inside a generator reached through yield from."""
import sys


def inner(n):
    total = 0
    for i in range(n):
        total += i * i
        yield i, total  # SNAP
    return total


def outer():
    got = yield from inner(5)
    yield "inner returned %d" % got
    yield from inner(2)


for x in outer():
    print("got", x)
print("end")
sys.exit(0)
