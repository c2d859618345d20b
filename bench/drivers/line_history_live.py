"""Line history in a live session: a call-heavy loop of N iterations (a
few seconds), then a row that does not parse raises. pyreplay dap stops
there (the uncaught filter); Step Back re-executes from the latest anchor
(a periodic snapshot every 8-17 ms) and Reverse Continue reaches the last
call of score() (a breakpoint on its line set after it ran).

    python line_history_live.py N
"""
import sys


def score(i):
    return i * i % 7  # line 13: the breakpoint set afterwards


def work(n):
    total = 0
    for i in range(n):
        total += score(i)
    return total


def main():
    t = work(int(sys.argv[1]))
    for r in ["a=1", "b=x"]:
        k, v = r.split("=")
        t += int(v)
    print(t)


main()
