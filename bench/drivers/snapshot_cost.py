"""Snapshot cost: take snapshots with pyreplay.snapshot() at the top of a
stack DEPTH frames deep (the module frame counts as one) whose frames hold
about LOCALS bytes of data in total (measured as pickled size), and write
the wall-clock and CPU time of each snapshot call to OUT, one line each
("first" is the warm-up snapshot, kept apart).

    pyreplay record snapshot_cost.py DEPTH LOCALS COUNT OUT
"""
import os
import pickle
import sys
import time
from array import array

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
    # kept in arrays: a list of floats would add ~COUNT values to the locals
    # of this frame, and to what each snapshot has to record
    walls = array("d")
    cpus = array("d")
    clock, cpu = time.perf_counter, time.process_time
    t, c = clock(), cpu()
    pyreplay.snapshot("warm-up")
    first = (clock() - t, cpu() - c)
    prof = None
    if os.environ.get("BENCH_PROFILE"):  # a cProfile of the snapshots, to stderr
        import cProfile
        prof = cProfile.Profile()
        prof.enable()
    for _ in range(COUNT):
        t, c = clock(), cpu()
        pyreplay.snapshot("bench")
        walls.append(clock() - t)
        cpus.append(cpu() - c)
    if prof is not None:
        prof.disable()
        import pstats
        pstats.Stats(prof, stream=sys.stderr).sort_stats(os.environ["BENCH_PROFILE"]).print_stats(35)
    with open(OUT, "w") as f:
        f.write("first %.9f %.9f\n" % first)
        for w, c in zip(walls, cpus):
            f.write("%.9f %.9f\n" % (w, c))


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
