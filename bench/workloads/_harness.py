"""The timing harness every workload shares (pyreplay's bench drives it
through environment variables; run plainly, it just runs the work).

Under the bench (BENCH_GO and BENCH_DONE name two FIFOs) the program takes
turns: it says "ready" once started, then runs work(n) once each time the
bench writes "g" to BENCH_GO and answers with that turn's wall and CPU
seconds, until the bench writes "q"; then it passes the workload's
breakpoint line once (report), untimed. Several programs pinned to the same
CPU take turns this way, so that only one of them runs at a time and their
timed turns interleave.

While waiting for its turn a program's real-time interval timer (one of
its own) is stopped and started again when the turn comes. pyreplay's
periodic snapshots (--every, time travel's anchors) come from a thread of
the shim that keeps wall time: one asked for while the program waits is
taken at its next line, here, before the turn's clock starts; one asked
for during a turn is taken up to a GIL switch interval (5 ms) later, so
that turns much shorter than the period lose some of them to the untimed
part (the time travel groups run longer turns for that). With
BENCH_WARM_SNAPSHOT set (pyreplay's --every), a first snapshot is taken
before the timed turns, so that they measure checkpoints in the steady
state.
"""
import os
import signal
import sys
import time


def _stop_timer():
    if hasattr(signal, "setitimer"):
        return signal.setitimer(signal.ITIMER_REAL, 0, 0)
    return (0.0, 0.0)


def _restart_timer(old):
    if old[0] > 0 or old[1] > 0:
        signal.setitimer(signal.ITIMER_REAL, old[0] or old[1], old[1])


def _turns(work, n, k):
    if os.environ.get("BENCH_WARM_SNAPSHOT"):
        # pyreplay's first snapshot in a process costs more (sources
        # written once, modules imported); take it before the timed turns
        import pyreplay
        pyreplay.snapshot("bench warm-up")
    # non-blocking opens: if the bench is gone (nobody holds the other
    # ends), fail or read end-of-file instead of waiting forever
    go = os.open(os.environ["BENCH_GO"], os.O_RDONLY | os.O_NONBLOCK)
    done = os.open(os.environ["BENCH_DONE"], os.O_WRONLY | os.O_NONBLOCK)
    os.set_blocking(go, True)
    os.set_blocking(done, True)
    clock, cpu = time.perf_counter, time.process_time
    result = None
    timer = _stop_timer()
    os.write(done, b"ready\n")
    while os.read(go, 1) == b"g":
        _restart_timer(timer)
        line = []
        for _ in range(k):
            t0, c0 = clock(), cpu()
            result = work(n)
            t1, c1 = clock(), cpu()
            line.append("%.9f %.9f" % (t1 - t0, c1 - c0))
        timer = _stop_timer()
        os.write(done, (" ".join(line) + "\n").encode())
    _restart_timer(timer)
    os.close(go)
    return result, done


def run(work, report, base):
    """Run work(base * scale) `iterations` times (under the bench: in each
    turn); then pass the workload's breakpoint line (in report) once."""
    scale = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    iterations = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    n = max(1, int(base * scale))
    if os.environ.get("BENCH_GO"):
        result, done = _turns(work, n, iterations)
        report([result])
        os.write(done, b"end\n")
        os.close(done)
        return
    results = []
    for _ in range(iterations):
        results.append(work(n))
    report(results)
