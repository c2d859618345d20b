"""Snapshot cost: take snapshots with pyreplay.snapshot() at the top of a
stack DEPTH frames deep (the module frame counts as one) whose frames hold
about LOCALS bytes of data in total (measured as pickled size), and write
the time of each snapshot call to OUT, one line each ("first" is the
warm-up snapshot, kept apart).

    pyreplay record snapshot_cost.py DEPTH LOCALS COUNT OUT
"""
import pickle
import sys
import time

import pyreplay


def make_data(nbytes, seed):
    """A mix of typical program data (ints, strings, floats, tuples, a dict)
    whose pickle is about nbytes long."""
    if nbytes <= 0:
        return {"n": seed, "name": "frame-%d" % seed, "xs": [seed, seed + 1, seed + 2]}

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


DEPTH = int(sys.argv[1])
LOCALS = int(sys.argv[2])
COUNT = int(sys.argv[3])
OUT = sys.argv[4]


def measure():
    times = []
    t = time.perf_counter()
    pyreplay.snapshot("warm-up")
    first = time.perf_counter() - t
    for _ in range(COUNT):
        t = time.perf_counter()
        pyreplay.snapshot("bench")
        times.append(time.perf_counter() - t)
    with open(OUT, "w") as f:
        f.write("first %.9f\n" % first)
        for x in times:
            f.write("%.9f\n" % x)


def descend(k, share):
    data = make_data(share, k)
    label = "level-%d" % k
    if k <= 1:
        measure()
    else:
        descend(k - 1, share)
    return data, label


if DEPTH <= 1:
    data = make_data(LOCALS, 0)
    measure()
else:
    share = LOCALS // DEPTH if LOCALS > 0 else 0
    descend(DEPTH - 1, share)
