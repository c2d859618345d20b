"""Recursion-heavy: deep and branching recursion."""
import os
import sys
import time


def fib(k):
    if k < 2:
        return k
    return fib(k - 1) + fib(k - 2)


def depth(k):
    if k == 0:
        return 0
    return 1 + depth(k - 1)


def work(n):
    total = 0
    done = 0
    while done < n:
        total += fib(18)          # ~8,000 calls
        total += depth(400)       # 400 frames deep
        done += 8761
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
    sys.setrecursionlimit(5000)
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 1.0, int(sys.argv[2]) if len(sys.argv) > 2 else 3)
