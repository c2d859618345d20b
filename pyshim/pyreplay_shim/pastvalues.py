"""The values of a re-execution's events (linehistory.py): a mutable
value's view made at its event (_Made), the marks of values that may come
from an outside input not recorded (_UNKNOWN, _mark_unknown), a stop's
locals compared by value (_literals), and what tells a suspended
generator's frame apart from one re-execution to another (_resume_key)."""
from .frames import line_at
from .state import _safe_repr

# ints whose view is their repr (reprlib's maxlong: 40 characters)
_SMALL = 10 ** 38


class _Made(object):
    """A view made at its event: its number in the re-execution's table."""
    __slots__ = ("i",)

    def __init__(self, i):
        self.i = i


def _resume_key(frame):
    """What tells a suspended generator's frame apart in two re-executions
    (its serials differ): its yield's line and its locals' reprs (but
    those with an address, which differ from run to run)."""
    import hashlib
    items = sorted((k, r) for k, r in ((k, _safe_repr(v)) for k, v in frame.f_locals.items()) if " at 0x" not in r)
    digest = hashlib.sha1(repr(items).encode("utf-8", "backslashreplace")).hexdigest()[:16]
    return "%d:%s" % (line_at(frame.f_code, frame.f_lasti) or frame.f_lineno, digest)


def _literals(reprs):
    """(name, value) of reprs' items whose repr is an int's, a str's or a
    bytes' that gives that repr back: a value with that type equal to it
    has that repr (not a float's: 0.0 == -0.0, nan != nan)."""
    import ast
    out = []
    for k, r in reprs.items():
        try:
            v = ast.literal_eval(r)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            continue
        if type(v) in (int, str, bytes) and _safe_repr(v) == r:
            out.append((k, v))
    return out


# a value that may come from an outside input not recorded (inputs.py)
_UNKNOWN = object()


def _same(a, b):
    if type(a) is not type(b):
        return False
    if type(a) is _Made:
        return a.i == b.i
    return a is b or a == b


def _mark_unknown(kept, first, verified):
    """The values of the kept events from the first outside input that was
    not recorded on (first: the number of the line event after it) that
    may come from it become _UNKNOWN: a frame's value that changed since
    its last event before it, every value of a frame begun after it;
    except the stop frame's values that stay the same up to the stop and
    are there the recording's (verified(the stop's event): their names)."""
    at = first[0]
    before = {}  # frame serial -> its values at its last event before
    for e in kept:
        if e[0] < at:
            before[e[1]] = e[6]
    stop = next((e for e in reversed(kept) if e[7]), None)
    known = {}  # id(event) -> the names known there (the stop frame's)
    if stop is not None:
        ok = verified(stop)
        same = {k: v for k, v in stop[6].items() if k in ok}
        for e in reversed(kept):
            if e[1] == stop[1]:
                for k in list(same):
                    if k not in e[6] or not _same(e[6][k], same[k]):
                        del same[k]
                known[id(e)] = set(same)
    for e in kept:
        if e[0] < at:
            continue
        base = before.get(e[1])
        sure = known.get(id(e), ())
        vals = e[6]
        for k, v in vals.items():
            if k in sure or (base is not None and k in base and _same(base[k], v)):
                continue
            vals[k] = _UNKNOWN
