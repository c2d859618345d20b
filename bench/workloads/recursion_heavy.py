"""Recursion-heavy: deep and branching recursion."""
import sys


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


if __name__ == "__main__":
    import _harness
    sys.setrecursionlimit(5000)
    _harness.run(work, report, 1_500_000)
