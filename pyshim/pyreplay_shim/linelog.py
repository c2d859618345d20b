"""The line events a resumed program executes, for checking a resume
against the original run (the fidelity harness does).

With PYREPLAY_TRACE_LINES=OUT.json in its environment, ``pyreplay resume``
records every line event (sys.settrace's, the events pdb stops at) of the
program's files after the snapshot's own (the innermost frame's at its
recorded position) until the interpreter exits (the program's threads and atexit
functions included), and writes them to OUT.json in the format of
internal/testutil/linetrace.py, which traces the original run:

    {"files": [realpath, ...], "threads": [name, ...],
     "seq": [[thread index, file index, line], ...]}

The variable is read before the recorded environment replaces the
process's, so the resumed program never sees it.
"""
import atexit
import json
import os
import sys
import threading

from . import paths



def install(path, trig):
    """Trace from now on (the rebuild's own events, while
    ``trig.rebuilding``, are left out); write ``path`` at exit."""
    files, threads, seq = [], [], []
    fidx, tidx, real = {}, {}, {}
    pending = [None]  # the arrival's (frame, line): not an event of the resumed run

    def arrived(frame, line):
        pending[0] = (frame, line) if line else None

    trig.on_arrival.append(arrived)

    def thread_index():
        t = threading.get_ident()
        i = tidx.get(t)
        if i is None:
            i = tidx[t] = len(threads)
            threads.append(threading.current_thread().name)
        return i

    def local(frame, event, arg):
        if event == "line" and not trig.rebuilding:
            a = pending[0]
            if a is not None:
                pending[0] = None
                if a[0] is frame and a[1] == frame.f_lineno:
                    return local
            seq.append((thread_index(), real[frame.f_code.co_filename], frame.f_lineno))
        return local

    def glob(frame, event, arg):
        fn = frame.f_code.co_filename
        i = real.get(fn)
        if i is None:
            i = -1
            if not fn.startswith("<") and paths.is_user_file(fn):
                rp = os.path.realpath(paths.abs_file(fn))
                i = fidx.get(rp)
                if i is None:
                    i = fidx[rp] = len(files)
                    files.append(rp)
            real[fn] = i
        return local if i >= 0 else None

    def dump():
        sys.settrace(None)
        threading.settrace(None)
        with open(path, "w") as f:
            json.dump({"files": files, "threads": threads, "seq": seq}, f)

    # registered before the program's own atexit functions are restored:
    # runs after them, as the original's tracer does
    atexit.register(dump)
    threading.settrace(glob)
    sys.settrace(glob)
