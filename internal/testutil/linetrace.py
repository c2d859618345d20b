"""Record the line events CPython's own tracer (sys.settrace, as pdb sees
them) reports for a program's files, every thread included, in order.

    python linetrace.py OUT.json FILE[,FILE...] PROG.py|-m MODULE [ARGS...]

runs the program as `python PROG.py ARGS` would (sys.argv, sys.path[0])
and, when the interpreter exits (after the program's threads and atexit
functions), writes to OUT.json

    {"files": [realpath, ...], "threads": [name, ...],
     "seq": [[thread index, file index, line], ...]}

the format pyreplay's shim writes for a resumed program
(pyshim/pyreplay_shim/linelog.py). The program's `import pyreplay` gets a
stand-in whose snapshot() returns False.
"""
import atexit
import json
import os
import runpy
import sys
import threading
import types

out_path, wanted = sys.argv[1], sys.argv[2]
files = [os.path.realpath(f) for f in wanted.split(",")]
fidx = {f: i for i, f in enumerate(files)}
threads, seq = [], []
tidx, real = {}, {}


def thread_index():
    t = threading.get_ident()
    i = tidx.get(t)
    if i is None:
        i = tidx[t] = len(threads)
        threads.append(threading.current_thread().name)
    return i


def local(frame, event, arg):
    if event == "line":
        seq.append((thread_index(), real[frame.f_code.co_filename], frame.f_lineno))
    return local


def glob(frame, event, arg):
    fn = frame.f_code.co_filename
    i = real.get(fn)
    if i is None:
        i = real[fn] = fidx.get(os.path.realpath(fn), -1)
    return local if i >= 0 else None


def dump():
    sys.settrace(None)
    threading.settrace(None)
    with open(out_path, "w") as f:
        json.dump({"files": files, "threads": threads, "seq": seq}, f)


atexit.register(dump)  # first registered, last run: after the program's own
stub = types.ModuleType("pyreplay")
stub.snapshot = lambda *a, **k: False
sys.modules["pyreplay"] = stub
args = sys.argv[3:]
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
