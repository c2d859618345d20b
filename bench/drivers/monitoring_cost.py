"""What sys.monitoring costs a hot function on 3.12+, in one process (so a
busy machine slows every variant alike): no tool; PY_START only, returning
DISABLE (pyreplay's breakpoint mechanism where no breakpoint is); and, in
addition, LINE enabled on the hot functions' own code, every line returning
DISABLE after its first event. Not part of `make bench`; it is the
measurement behind enabling LINE only on code objects whose own lines hold
a breakpoint (triggers.py).

    python3.12 bench/drivers/monitoring_cost.py
"""
import statistics
import sys
import time

M = sys.monitoring
TOOL = 3


def loops(n):
    total = 0
    for r in range(n):
        acc = 0
        for x in range(200):
            if x & 1:
                acc += x * 3
            else:
                acc -= x
        total += acc ^ r
    return total


def add(a, b):
    return a + b


def calls(n):
    t = 0
    for i in range(n):
        t = add(t, i)
    return t


HOT = (loops.__code__, calls.__code__, add.__code__)


def on(line):
    M.use_tool_id(TOOL, "bench")
    M.register_callback(TOOL, M.events.PY_START, lambda code, off: M.DISABLE)
    M.register_callback(TOOL, M.events.LINE, lambda code, line: M.DISABLE)
    M.set_events(TOOL, M.events.PY_START)
    if line:
        for c in HOT:
            M.set_local_events(TOOL, c, M.events.LINE)


def off():
    M.set_events(TOOL, 0)
    for c in HOT:
        M.set_local_events(TOOL, c, 0)
    M.register_callback(TOOL, M.events.PY_START, None)
    M.register_callback(TOOL, M.events.LINE, None)
    M.free_tool_id(TOOL)


def main():
    modes = ("no tool", "PY_START, DISABLE", "PY_START + LINE, DISABLE")
    res = {m: [] for m in modes}
    for _ in range(12):
        for i, m in enumerate(modes):
            if i:
                on(i == 2)
            c = time.process_time()
            loops(1500)
            calls(300000)
            res[m].append(time.process_time() - c)
            if i:
                off()
    base = statistics.median(res[modes[0]])
    for m in modes:
        med = statistics.median(res[m])
        print("%-26s %6.1f ms  x%.3f" % (m, med * 1000, med / base))


if __name__ == "__main__":
    main()
