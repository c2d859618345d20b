"""A recording of many snapshots for the DAP latency bench: a breakpoint on
the line marked BREAK fires N times, 3 frames deep, with a few locals.

    pyreplay record -b many_snapshots.py:LINE many_snapshots.py N
"""
import sys


class Point:
    def __init__(self, x, y):
        self.x = x
        self.y = y


def step(i, history):
    p = Point(i, i * i % 97)
    history.append(p)
    recent = [q.y for q in history[-8:]]
    total = sum(recent)  # BREAK
    return total


def main(n):
    history = []
    grand = 0
    for i in range(n):
        grand += step(i, history)
        if len(history) > 64:
            del history[:32]
    return grand


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10000)
