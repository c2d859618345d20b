"""Loop-heavy: tight nested loops of arithmetic and indexing, few calls."""
import os
import sys
import time


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


def _timing(times):
    """One line per iteration: wall and CPU seconds (for pyreplay's bench)."""
    path = os.environ.get("BENCH_TIMING")
    if path:
        with open(path, "a") as f:
            for wall, cpu in times:
                f.write("%.9f %.9f\n" % (wall, cpu))


def main(scale, iterations=3):
    times = []
    results = []
    for _ in range(iterations):
        t0, c0 = time.perf_counter(), time.process_time()
        results.append(work(int(1_500_000 * scale)))
        times.append((time.perf_counter() - t0, time.process_time() - c0))
    report(results)
    _timing(times)


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 1.0, int(sys.argv[2]) if len(sys.argv) > 2 else 3)
