"""Bounded JSON views of values, so Go and the front ends never unpickle."""
from .state import _safe_repr, _typename, Placeholder
from .frames import _Null

MAX_CHILDREN = 100
MAX_DEPTH = 3


def view(obj, depth=MAX_DEPTH):
    if isinstance(obj, _Null):
        return {"type": "<unbound>", "repr": "<unbound>"}
    if type(obj) is Placeholder:
        return {"type": "<unsaved>", "repr": repr(obj)}
    v = {"type": _typename(obj), "repr": _safe_repr(obj)}
    if depth <= 0:
        if _has_children(obj):
            v["more"] = True
        return v
    try:
        kids = _children(obj, depth)
    except Exception:  # noqa: BLE001 - user containers may raise
        kids = None
    if kids is not None:
        v["children"], v["len"] = kids
    return v


def _has_children(obj):
    return isinstance(obj, (list, tuple, dict, set, frozenset)) or hasattr(obj, "__dict__")


def _children(obj, depth):
    t = type(obj)
    if t in (str, bytes, int, float, bool, complex, type(None), bytearray):
        return None
    out = []
    if isinstance(obj, (list, tuple)):
        for i, x in enumerate(obj[:MAX_CHILDREN]):
            c = view(x, depth - 1)
            c["name"] = "[%d]" % i
            out.append(c)
        return out, len(obj)
    if isinstance(obj, dict):
        for i, (k, x) in enumerate(obj.items()):
            if i >= MAX_CHILDREN:
                break
            c = view(x, depth - 1)
            c["name"] = _safe_repr(k, 60)
            out.append(c)
        return out, len(obj)
    if isinstance(obj, (set, frozenset)):
        for i, x in enumerate(obj):
            if i >= MAX_CHILDREN:
                break
            c = view(x, depth - 1)
            c["name"] = "{%d}" % i
            out.append(c)
        return out, len(obj)
    d = getattr(obj, "__dict__", None)
    if isinstance(d, dict) and not isinstance(obj, type) and t.__module__ not in ("builtins",):
        for i, (k, x) in enumerate(d.items()):
            if i >= MAX_CHILDREN:
                break
            c = view(x, depth - 1)
            c["name"] = str(k)
            out.append(c)
        return out, len(d)
    return None
