"""The timing harness every workload shares (pyreplay's bench drives it
through environment variables; run plainly, it just runs the work)."""
import os
import sys
import time


def _timing(times):
    """One line per iteration: wall and CPU seconds (for pyreplay's bench)."""
    path = os.environ.get("BENCH_TIMING")
    if path:
        with open(path, "a") as f:
            for wall, cpu in times:
                f.write("%.9f %.9f\n" % (wall, cpu))


def _sync():
    """Under pyreplay's bench: say we are ready, wait for the go (two runs
    measured side by side start their timed work together)."""
    ready = os.environ.get("BENCH_READY")
    if ready:
        with open(ready + ".tmp", "w") as f:
            f.write("%.6f" % time.time())
        os.rename(ready + ".tmp", ready)
        go = os.environ["BENCH_GO"]
        while not os.path.exists(go):
            time.sleep(0.0002)


def _keep_busy(work, base, scale):
    """Under pyreplay's bench: keep working, untimed, until the run measured
    beside this one is done too, so that it is never timed alone."""
    done = os.environ.get("BENCH_DONE")
    if done:
        open(done, "w").close()
        peer = os.environ["BENCH_PEER_DONE"]
        while not os.path.exists(peer):
            work(max(1, int(base * scale / 20)))


def run(work, report, base):
    """Time `iterations` runs of work(base * scale), then pass the
    workload's breakpoint line (in report) once, untimed."""
    scale = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    iterations = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    _sync()
    times = []
    results = []
    for _ in range(iterations):
        t0, c0 = time.perf_counter(), time.process_time()
        results.append(work(int(base * scale)))
        times.append((time.perf_counter() - t0, time.process_time() - c0))
    _keep_busy(work, base, scale)
    report(results)
    _timing(times)
