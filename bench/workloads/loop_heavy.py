"""Loop-heavy: tight nested loops of arithmetic and indexing, few calls."""


def work(n):
    size = 200
    grid = [[(i * 31 + j * 17) % 97 for j in range(size)] for i in range(size)]
    total = 0
    rounds = max(1, n // (size * size))
    for r in range(rounds):
        for row in grid:
            acc = 0
            for x in row:
                if x & 1:
                    acc += x * 3
                else:
                    acc -= x
            total += acc ^ r
    return total


def report(result):
    summary = {"result": result}
    return summary  # BREAK


if __name__ == "__main__":
    import _harness
    _harness.run(work, report, 1_500_000)
