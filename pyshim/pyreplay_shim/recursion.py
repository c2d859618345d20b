"""The program's recursion limit as the breakpoint triggers meet it (both
mechanisms: monitoring.py, hooks.py)."""
import sys

from . import frames as F

V = sys.version_info[:2]

# A breakpoint line may run so close to the recursion limit that the shim's
# own calls hit it: that breakpoint is then skipped, and the program goes on
# exactly as without pyreplay. The handler must call nothing (any call would
# raise again), except on 3.8, where a caught RecursionError leaves an
# overflow flag set that allows 50 more frames: there the flag is fetched and
# cleared, as the last thing before returning to the program.
_OVERFLOW_FLAG = V < (3, 9)
# 3.8 and 3.9 also leave that flag set when C code swallows a RecursionError
# (a dict lookup, hasattr...), and the next overflow is then a fatal error:
# there breakpoints are not evaluated within 100 frames of the limit at all.
# The check is made inline in the hooks, with no call and no comparison
# (both count against the limit on 3.8/3.9; // and truth tests do not). It
# reads the main thread's depth counter: breakpoints hit in other threads are
# judged by the main thread's depth.
_ROOM = 100 if V < (3, 10) else 0


def _note_overflow():
    """A callback of the shim's overflowed at the program's recursion limit:
    say so to the interpreter's overflow flag (see _OVERFLOW_FLAG)."""
    flag = F.overflow_flag()
    if flag is not None:
        flag.value = b"\0"


class _NoCounter:
    value = 0


_MAIN_DEPTH = _LIMIT = _NoCounter
if _ROOM:
    _MAIN_DEPTH, _LIMIT = F.recursion_depth(), F.recursion_limit()
    if _MAIN_DEPTH is None or _LIMIT is None:
        _ROOM, _MAIN_DEPTH, _LIMIT = 0, _NoCounter, _NoCounter
