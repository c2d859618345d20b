"""A re-execution's events written to OUT (linehistory.py's format): the
code table, the views the kept events use, numbered in the order they are
first used (a view made for an event that was not kept is not written),
then the events, one JSON object per line.

OUT gets one JSON object per line: first the tables the events refer to,

    {"code": K, "f": function, "file": path}
    {"view": I, "type": ..., "repr": ...}      (a value's view, depth 0;
                          "unknown": true for a value that may come from
                          an outside input not recorded, below)

then the events,

    {"n": number from the anchor's, "h": line events at its file and line
     so far, "s": frame serial, "p": its caller's serial (0: none), "k":
     code K, "l": line, "m": module name or "", "v": {name: view I},
     "c": 1 the stop's candidate, "x": 1 a caller's, "w": 1 a frame's state
     where a copy's events begin, or a generator's resumed that began
     before the events ("r": its key, _resume_key), "b": [conditions true
     here], at a line of the scope's with conditions}

("x" and "w" events take the number of the line event after them) and last
{"end": "matched" | "exit", "events": N, "kept": N, "first": the number of
the first line event kept, "outside": the first outside input read that
was not recorded, "what at file:line", if any, "suspended": [[serial,
key], ...] the generators' frames with events suspended at the end}.
"""
import json
import os

from .pastvalues import _SMALL, _UNKNOWN, _Made


def write_events(out, codes, kept, views, key_of, hides, unknown, candidate):
    """codes: (qualified name, file, K) each; kept: the events (linehistory
    record()'s tuples), their values replaced here by their views' numbers;
    views: a mutable value's view's items -> its _Made; key_of(name, value):
    a value's view's items; hides(name): whether the view redacts it;
    unknown: [(event, what, where)] of the first outside input not
    recorded, or []; candidate(event): whether it is marked "c"."""
    table = {}  # a view's items -> its number in OUT
    rows = []
    by_index = {m.i: key for key, m in views.items()}
    renumber = {}

    def number(key):
        n = table.get(key)
        if n is None:
            n = table[key] = len(table)
            rows.append(key)
        return n

    small = {}  # a small int -> its view's number (most locals)
    for e in kept:
        vals = e[6]
        for k, v in vals.items():
            if type(v) is int and -_SMALL < v < _SMALL and not hides(k):
                n = small.get(v)
                if n is None:
                    n = small[v] = number(key_of(k, v))
                vals[k] = n
            elif v is _UNKNOWN:
                vals[k] = number((("type", ""), ("repr", "<unknown: may come from %s at %s, which was not recorded>"
                                                  % unknown[0][1:]), ("unknown", True)))
            elif type(v) is _Made:
                n = renumber.get(v.i)
                if n is None:
                    n = renumber[v.i] = number(by_index[v.i])
                vals[k] = n
            else:
                vals[k] = number(key_of(k, v))
    dumps = json.dumps
    # (one encoder: json.dumps with default= makes a new one per call)
    encode = json.JSONEncoder(default=str).encode
    for (name, fn, k) in codes:
        out.write(dumps({"code": k, "f": name, "file": fn}) + "\n")
    for n, key in enumerate(rows):
        row = {"view": n}
        row.update(key)
        out.write(encode(row) + "\n")
    js = {}  # a module's or a local's name -> its JSON (names repeat)
    for e in kept:
        m = js.get(e[5])
        if m is None:
            m = js[e[5]] = dumps(e[5])
        vj = []
        for k, n in e[6].items():
            kj = js.get(k)
            if kj is None:
                kj = js[k] = dumps(k)  # (a class body's or exec's locals need not be identifiers)
            vj.append("%s:%d" % (kj, n))
        vj = "{" + ",".join(vj) + "}"
        out.write('{"n":%d,"h":%d,"s":%d,"p":%d,"k":%d,"l":%d,"m":%s,"v":%s%s%s%s%s%s}\n' % (
            e[0], e[12], e[1], e[2], e[3], e[4], m, vj,
            ',"c":1' if candidate(e) else "",
            ',"x":1' if e[8] else "", ',"w":1' if e[11] else "", ',"b":' + dumps(e[9]) if e[9] is not None else "",
            ',"r":' + dumps(e[13]) if e[13] else ""))


def snapshot_here(rec, frame, path, unknown):
    """Resume from Here on a line of the past: the re-execution, its effects
    going nowhere, snapshots the program at that line event (an ordinary,
    exactly resumable snapshot) and ends; none after an outside input that
    was not recorded (its state may not be the original's)."""
    if unknown:
        end = "unknown: the program read %s at %s, which was not recorded" % unknown[0][1:]
    else:
        from . import store
        rec.history_run = False  # (the one snapshot it records)
        sid = rec.snapshot("breakpoint", "", frame, "line")
        store.wait()
        end = "snapshot %d" % (sid or 0)
    import _io  # (not the sandbox's open: this file is pyreplay's)
    with _io.open(path, "w") as f:
        f.write(json.dumps({"end": end}) + "\n")
    os._exit(0)


def said_done(spec):
    """OUT is complete: a line to pyreplay's FIFO at "done", which reads OUT
    at once, while this process (and the counting run that forked it)
    still end (session/done.go). posix's: the sandbox's os refuses."""
    path = spec.get("done")
    if path:
        import posix
        try:
            fd = posix.open(path, posix.O_WRONLY | posix.O_NONBLOCK | posix.O_CLOEXEC)
            try:
                posix.write(fd, b"done\n")
            finally:
                posix.close(fd)
        except OSError:
            pass  # (pyreplay waits for the process's end instead)
