"""Big value: a SIZE-byte bytes local, snapshotted with pyreplay.snapshot()
and pickled alone (pickle.dumps, the anchor), turn about, ROUNDS times,
in the same process; the first line of OUT is the process's peak memory
before and after its first snapshot (or, with "pickle", its first pickle,
and nothing else), then one line per round: snapshot seconds, pickle seconds.

    pyreplay record big_value.py SIZE ROUNDS OUT
    python big_value.py SIZE 0 OUT pickle
"""
import pickle
import resource
import sys
import time

SIZE, ROUNDS, OUT = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
ALONE = sys.argv[4:] == ["pickle"]


def peak():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def snapshot():
    import pyreplay
    pyreplay.snapshot("big")


def pickled():
    p = pickle.dumps(data)
    del p


data = bytes(range(256)) * (SIZE // 256)
clock = time.perf_counter
base = peak()
(pickled if ALONE else snapshot)()
lines = ["peak %d %d" % (base, peak())]
for i in range(ROUNDS):
    # pyreplay's checkpointer copies the last snapshot into the database
    # meanwhile; each round starts on a quiet machine
    time.sleep(1.5)
    times = {}
    for f in ((snapshot, pickled) if i % 2 == 0 else (pickled, snapshot)):
        t = clock()
        f()
        times[f] = clock() - t
    lines.append("%.6f %.6f" % (times[snapshot], times[pickled]))
with open(OUT, "w") as f:
    f.write("\n".join(lines) + "\n")
