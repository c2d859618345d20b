"""Line history: N iterations of a small loop, then a row that does not
parse raises; record --trace snapshots the first line, the uncaught
exception the last, and a replay steps back by line from the exception.

    pyreplay record --trace line_history.py N
"""
import sys


def work(n):
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


def main():
    t = work(int(sys.argv[1]))
    for r in ["a=1", "b=x"]:
        k, v = r.split("=")
        t += int(v)
    print(t)


main()
