"""The other threads of a snapshot, as views (meta "thread_stacks"): each
live thread of the program (not the shim's own), its name and id, and its
stack at the snapshot, outermost first: function, file, line, and the
locals of the program's frames. For the debugger (DAP threads, a thread's
stack and variables) and the TUI; exact resume of a snapshot with other
threads stays refused, so nothing here is pickled."""
import sys

from . import frames as F
from . import paths
from .view import redacted, view

MAX_THREADS = 32
MAX_FRAMES = 64


def stacks(threading_mod, current):
    frames = sys._current_frames()
    out = []
    for t in threading_mod.enumerate():
        if t is current or not t.is_alive() or getattr(t, "pyreplay_internal", False):
            continue
        f = frames.get(t.ident)
        if f is None:
            continue
        out.append({"name": t.name, "ident": t.ident, "native_id": getattr(t, "native_id", None) or 0,
                    "frames": _frames(f)})
        if len(out) >= MAX_THREADS:
            break
    return out


def _frames(f):
    fs = []
    while f is not None and paths.is_shim_file(f.f_code.co_filename):
        f = f.f_back  # (a thread paused at a stop: the shim's pause on top)
    while f is not None and len(fs) < MAX_FRAMES:
        code = f.f_code
        user = paths.is_user_file(code.co_filename)
        module = f.f_locals is f.f_globals
        fv = {"function": "<module>" if module else getattr(code, "co_qualname", code.co_name),
              "name": code.co_name, "file": paths.abs_file(code.co_filename), "line": F.line_at(code, f.f_lasti) or f.f_lineno or 0,
              "firstline": code.co_firstlineno, "library": not user, "kind": "call" if fs else "line",
              "module": module, "module_name": f.f_globals.get("__name__", ""), "locals": {}}
        if user and not module:
            try:
                fv["locals"] = {k: {"type": "", "repr": "<redacted>"} if redacted(k) else view(v, 1)
                                for k, v in list(f.f_locals.items())}
            except Exception:  # noqa: BLE001 - a thread's frame changing under us
                pass
        fs.append(fv)
        f = f.f_back
    fs.reverse()
    for i, fv in enumerate(fs):
        fv["kind"] = "line" if i == len(fs) - 1 else "call"
    return fs
