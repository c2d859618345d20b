"""CRIU cost: a program that reaches the line marked BREAK holding a small
heap, or with "big" about 100 MB more of it (a filled bytearray local, every
page resident), and prints the wall-clock time when that line runs (the first
output line after a snapshot taken there).

    python criu_target.py [big]
"""
import sys
import time


def main(big):
    heap = bytearray(b"\x01") * (100_000_000 if big else 1)
    print("BENCH-REACHED %.6f" % time.time(), flush=True)  # BREAK
    return len(heap)


if __name__ == "__main__":
    main(len(sys.argv) > 1 and sys.argv[1] == "big")
