"""Count the line events CPython's own tracer (sys.settrace, as pdb sees
them) reports for a program's files, every thread included.

    python linetrace.py OUT.json FILE[,FILE...] PROG.py|-m MODULE [ARGS...]

runs the program as `python PROG.py ARGS` would (sys.argv, sys.path[0])
and writes {"realpath": {"line": count}} to OUT.json when it ends. The
program's `import pyreplay` gets a stand-in whose snapshot() returns False.
"""
import json
import os
import runpy
import sys
import threading
import types

out_path, files = sys.argv[1], sys.argv[2]
want = {os.path.realpath(f) for f in files.split(",")}
counts = {}
real = {}


def local(frame, event, arg):
    if event == "line":
        c = counts.setdefault(real[frame.f_code.co_filename], {})
        c[frame.f_lineno] = c.get(frame.f_lineno, 0) + 1
    return local


def glob(frame, event, arg):
    fn = frame.f_code.co_filename
    rp = real.get(fn)
    if rp is None:
        rp = real[fn] = os.path.realpath(fn)
    return local if rp in want else None


def dump():
    sys.settrace(None)
    threading.settrace(None)
    with open(out_path, "w") as f:
        json.dump({k: {str(ln): n for ln, n in v.items()} for k, v in counts.items()}, f)


stub = types.ModuleType("pyreplay")
stub.snapshot = lambda *a, **k: False
sys.modules["pyreplay"] = stub
args = sys.argv[3:]
try:
    if args[0] == "-m":
        sys.argv = ["-m"] + args[2:]
        sys.path[0] = os.getcwd()
        threading.settrace(glob)
        sys.settrace(glob)
        runpy._run_module_as_main(args[1], alter_argv=True)
    else:
        sys.argv = args
        sys.path[0] = os.path.dirname(os.path.realpath(args[0]))
        threading.settrace(glob)
        sys.settrace(glob)
        runpy.run_path(args[0], run_name="__main__")
finally:
    dump()
