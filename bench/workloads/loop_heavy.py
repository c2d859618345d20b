"""Loop-heavy: tight nested loops of arithmetic and indexing, few calls."""

SIZE = 200
GRID = [[(i * 31 + j * 17) % 97 for j in range(SIZE)] for i in range(SIZE)]


def work(n):
    total = 0
    for r in range(max(1, n // SIZE)):
        acc = 0
        for x in GRID[r % SIZE]:
            if x & 1:
                acc += x * 3
            else:
                acc -= x
        total += acc ^ (r // SIZE)
    return total


def report(result):
    summary = {"result": result}
    return summary  # BREAK


if __name__ == "__main__":
    import _harness
    _harness.run(work, report, 1_500_000)
