"""A naive omniscient line recorder, as a pure-Python debugger would write
one: ``sys.settrace`` on everything, and at every line event the frame's
code, line and a shallow copy of its locals appended to a list (the
history; module and class bodies: the line only, the hot code is in
functions). The list is handed off (dropped) every 65,536 events, as a
recorder writing its history out in chunks would, so that memory stays
bounded; nothing is written. Runs the program the way ``python -m pdb``
does (bench/drivers/bdb_run.py) and prints the number of line events
recorded to stderr as ``SETTRACE-EVENTS n``.

    python settrace_recorder.py PROGRAM [ARGS...]
"""
import builtins
import os
import sys

CHUNK = 1 << 16


def main():
    prog = os.path.abspath(sys.argv[1])
    sys.argv = [prog] + sys.argv[2:]
    sys.path[0] = os.path.dirname(prog)
    history = []
    chunks = [0]
    append = history.append
    chunk = CHUNK  # (the module's globals are cleared below)
    settrace = sys.settrace

    def local(frame, event, arg):
        if event == "line":
            code = frame.f_code
            # a module's or class body's line: no locals (3.12's f_locals
            # there, inside an inlined comprehension, corrupts the namespace)
            append((code, frame.f_lineno, dict(frame.f_locals) if code.co_flags & 1 else None))
            if len(history) >= chunk:
                chunks[0] += 1
                history.clear()
        return local

    def call(frame, event, arg):
        return local

    with open(prog, "rb") as f:
        code = compile(f.read(), prog, "exec")
    import __main__
    ns = __main__.__dict__
    write = sys.stderr.write
    b = builtins  # this driver is __main__ too: its globals are cleared below
    ns.clear()
    ns.update({"__name__": "__main__", "__file__": prog, "__builtins__": b})
    settrace(call)
    try:
        exec(code, ns)
    finally:
        settrace(None)
        write("SETTRACE-EVENTS %d\n" % (chunks[0] * chunk + len(history)))


main()
