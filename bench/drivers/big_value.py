"""Big value: a SIZE-byte bytes local, snapshotted with pyreplay.snapshot()
and pickled alone (pickle.dumps, the anchor), turn about, ROUNDS times,
in the same process; the first line of OUT is the process's peak memory
before and after its first snapshot (or, with "pickle", its first pickle,
and nothing else), then one line per round: snapshot seconds, pickle seconds,
and (given the recording DB) the seconds until the snapshot's row is in the
recording: a large state is written while the program goes on.

    pyreplay record --db DB big_value.py SIZE ROUNDS OUT DB
    python big_value.py SIZE 0 OUT pickle
"""
import pickle
import resource
import sys
import time

SIZE, ROUNDS, OUT = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
ALONE = sys.argv[4:] == ["pickle"]
DB = sys.argv[4] if len(sys.argv) > 4 and not ALONE else None


def peak():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def snapshot():
    import pyreplay
    pyreplay.snapshot("big")


def pickled():
    p = pickle.dumps(data)
    del p


def rows():
    import sqlite3
    db = sqlite3.connect("file:%s?mode=ro" % DB, uri=True, timeout=30)
    try:
        return db.execute("SELECT count(*) FROM snapshots").fetchone()[0]
    finally:
        db.close()


def written(before, t0):
    """Seconds from t0 until the recording holds more than before rows."""
    while rows() <= before:
        time.sleep(0.002)
    return clock() - t0


data = bytes(range(256)) * (SIZE // 256)
clock = time.perf_counter
base = peak()
(pickled if ALONE else snapshot)()
lines = ["peak %d %d" % (base, peak())]
for i in range(ROUNDS):
    times = {}
    for f in ((snapshot, pickled) if i % 2 == 0 else (pickled, snapshot)):
        # pyreplay's checkpointer copies the last snapshot into the
        # database meanwhile; each measurement starts on a quiet machine
        time.sleep(1.5)
        n = rows() if DB and f is snapshot else 0
        t = clock()
        f()
        times[f] = clock() - t
        if DB and f is snapshot:
            times["written"] = written(n, t)
    lines.append("%.6f %.6f %.6f" % (times[snapshot], times[pickled], times.get("written", 0)))
with open(OUT, "w") as f:
    f.write("\n".join(lines) + "\n")
