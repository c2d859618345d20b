"""Evaluate in the past (pyreplay dap): in a separate process, load a
snapshot's pickled state (as a resume does) and evaluate expressions
against the frames it recorded. The live program is never touched, and
every evaluation starts again from the recorded state.

  python -c 'import sys; sys.path.insert(0, SHIM); from pyreplay_shim import pasteval; pasteval.main()' DB

  stdin:  {"id": N, "snap": S, "frame": I, "module": NAME, "expr": "..."} per line
  stdout: {"id": N, "ok": true, "value": VIEW, "output": "..."} | {"id": N, "ok": false, "error": "..."}

Files the program had open are reopened read-only here (never truncated),
and the standard streams are this process's own.
"""
import io
import json
import os
import pickle
import sys

from . import store
from . import state as S
from . import stdvalues
from . import wire as W
from .view import view


def _reopen_readonly(path, mode, pos, encoding, errors, newline, binary_kind, name=None):
    """reopen_file here: the file as the program had it open (its repr and
    mode), on a read-only descriptor (never cut at pos: the live program
    may have written more since; writing to it fails), closed when the
    file is gone."""
    name = path if name is None else name
    if not os.path.isfile(path):
        return stdvalues.closed_file(name, mode, binary_kind, encoding, errors, newline)
    f = stdvalues.open_as(path, mode, encoding, errors, newline, binary_kind, name, readonly=True)
    try:
        f.seek(pos)
    except (OSError, ValueError):
        pass
    return f


class _Gen:
    """Stands for a suspended generator (its frame is not rebuilt here)."""

    def __init__(self, k):
        self.k = k

    def __repr__(self):
        return "<suspended generator (recorded)>"


def load(db, snap):
    """(locals per frame index, module namespaces) of a snapshot."""
    S._module_registry.clear()
    # (pickles name the function where it was defined when they were
    # written: stdvalues now, state before)
    stdvalues.reopen_file = S.reopen_file = _reopen_readonly
    S.generator_factory = lambda k, slots, stack: _Gen(k)
    # the key comes from pyreplay in the environment of this process only
    up = S.StateUnpickler(store.read_state(db, snap, bytes.fromhex(os.environ.get("PYREPLAY_KEY", ""))))
    manifest = up.load()
    frames = {}
    for entry in manifest:
        v = up.load()
        kind = entry[0]
        if kind == W.M_LOCAL:
            if type(v) is S.CellType:
                try:
                    v = v.cell_contents
                except ValueError:
                    continue
            frames.setdefault(entry[1], {})[entry[2]] = v
        elif kind == W.M_GLOBAL:
            S.module_ns(entry[1])[entry[2]] = v
    return frames


def main():
    db = sys.argv[1]
    # the protocol keeps its own copies of stdin/stdout; the evaluated code
    # gets an empty stdin and a captured stdout
    inp = io.TextIOWrapper(os.fdopen(os.dup(0), "rb"), encoding="utf-8")
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    main_mod = sys.modules["__main__"]
    for line in inp:
        try:
            req = json.loads(line)
        except ValueError:
            continue
        rid = req.get("id")
        captured = io.StringIO()
        old = sys.stdout, sys.stderr
        try:
            sys.modules["__main__"] = main_mod
            frames = load(db, int(req["snap"]))
            glob = S.module_ns(req.get("module") or "__main__")
            loc = frames.get(req.get("frame"), {})
            sys.stdout = sys.stderr = captured
            try:
                value = eval(compile(req["expr"], "<pyreplay evaluate (past)>", "eval"), glob, dict(loc))
            finally:
                sys.stdout, sys.stderr = old
            res = {"id": rid, "ok": True, "value": view(value, 1), "output": captured.getvalue()}
        except BaseException as e:  # noqa: BLE001 - report anything, keep serving
            sys.stdout, sys.stderr = old
            res = {"id": rid, "ok": False, "error": "%s: %s" % (type(e).__name__, e)}
        try:
            out.write(json.dumps(res, default=str) + "\n")
        except (TypeError, ValueError):
            out.write(json.dumps({"id": rid, "ok": False, "error": "the result cannot be shown"}) + "\n")
        out.flush()
