"""Call-heavy: many small Python function and method calls."""


class Vec:
    __slots__ = ("x", "y")

    def __init__(self, x, y):
        self.x = x
        self.y = y

    def dot(self, other):
        return self.x * other.x + self.y * other.y


def add(a, b):
    return a + b


def scaled(v, k):
    return add(v * k, 1)


def work(n):
    total = 0
    u = Vec(1, 2)
    w = Vec(3, 4)
    for i in range(n):
        total = add(total, scaled(i, 3))
        total += u.dot(w)
    return total


def report(result):
    summary = {"result": result}
    return summary  # BREAK


if __name__ == "__main__":
    import _harness
    _harness.run(work, report, 300_000)
