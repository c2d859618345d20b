"""Resume latency: a program that reaches the line marked BREAK 20 frames
deep (the module frame counts as one) with about 100 kB of locals in the
stack, and prints the wall-clock time when that line runs. With "slow" it
first works for about half a second, so that re-running it to that line costs
more than resuming there.

    python resume_target.py [slow]
"""
import pickle
import sys
import time


def make_data(nbytes, seed):
    def build(k):
        return {
            "ids": list(range(seed, seed + k)),
            "names": ["name-%d" % (seed + i) for i in range(k // 4)],
            "rows": [(i, i * 0.5, "r%d" % i) for i in range(k // 8)],
            "index": {"key-%d" % i: i * 1.5 for i in range(k // 8)},
        }
    probe = 1000
    per = len(pickle.dumps(build(probe), 4)) / probe
    return build(max(1, int(nbytes / per)))


def pre_work(n):
    acc = 0
    for i in range(n):
        acc = (acc * 31 + i) % 1000003
    return acc


def descend(k, share, seed):
    data = make_data(share, seed + k)
    if k <= 1:
        print("BENCH-REACHED %.6f" % time.time(), flush=True)  # BREAK
        return len(data)
    return descend(k - 1, share, seed) + len(data)


if __name__ == "__main__":
    slow = len(sys.argv) > 1 and sys.argv[1] == "slow"
    seed = pre_work(4_000_000 if slow else 0)
    descend(19, 100_000 // 20, seed)
