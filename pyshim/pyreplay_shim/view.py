"""Bounded JSON views of values, so Go and the front ends never unpickle."""
import itertools

from .state import _safe_repr, _typename, Placeholder
from .stdvalues import is_mapping
from .frames import _Null

MAX_CHILDREN = 100
MAX_DEPTH = 3

# Names whose values the views never show (locals, globals, dict keys,
# attributes): secrets in a recording someone else may browse. The pickled
# state keeps the real values (resume needs them). configure() sets them
# from `pyreplay record --redact PATTERN / --no-redact`.
DEFAULT_REDACT = ("*TOKEN*", "*SECRET*", "*PASSWORD*", "*PASSWD*", "*API_KEY*", "*CREDENTIAL*", "*AUTH*")
_secret = None


def configure(patterns=None, enabled=True):
    """Glob patterns (case-insensitive) of names whose values are redacted."""
    global _secret
    from . import state
    if not enabled:
        _secret = None
        state._Repr.hide = None
        return
    state._Repr.hide = staticmethod(redacted)
    import fnmatch
    import re
    pats = list(DEFAULT_REDACT) + list(patterns or ())
    _secret = re.compile("|".join("(?:%s)" % fnmatch.translate(p.upper()) for p in pats))


def redacted(name):
    """Whether a variable, key or attribute name looks like a secret (a dict
    key comes as its repr: 'API_KEY', b'TOKEN')."""
    if _secret is None or not name:
        return False
    if name[0] in "bu" and len(name) > 2 and name[1] in "'\"":
        name = name[1:]
    if name[0] in "'\"" and name[-1:] == name[0]:
        name = name[1:-1]
    return _secret.match(name.upper()) is not None


def _hidden(obj, name=None):
    v = {"type": _typename(obj), "repr": "<redacted>", "redacted": True}
    if name is not None:
        v["name"] = name
    return v


configure()


# exact types whose view is their type and repr alone (no children, no
# "more"): the common case, made without the general path's checks
_SCALARS = {t: t.__name__ for t in (int, float, complex, str, bytes, bytearray, bool, type(None))}


def view(obj, depth=MAX_DEPTH):
    v = _node(obj)
    if type(obj) in _SCALARS or isinstance(obj, _Null) or type(obj) is Placeholder:
        return v
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


# The views of one snapshot share a budget of child nodes: every variable
# (root) gets its type and repr; children are then filled in breadth first,
# the innermost frame's variables first, until the budget is spent. A node
# left unexpanded says "more" (as at the depth limit); a container cut short
# keeps its "len". Without the budget, 100 kB of small objects made half a
# megabyte of views and most of a snapshot's time.
BUDGET = 1000
_INDEX = tuple("[%d]" % i for i in range(MAX_CHILDREN))


def _node(obj):
    tn = _SCALARS.get(type(obj))
    if tn is not None:
        return {"type": tn, "repr": _safe_repr(obj)}
    if isinstance(obj, _Null):
        return {"type": "<unbound>", "repr": "<unbound>"}
    if type(obj) is Placeholder:
        return {"type": "<unsaved>", "repr": repr(obj)}
    return {"type": _typename(obj), "repr": _safe_repr(obj)}


def children(obj, live=False):
    """The one rule naming a value's children, used by the views (Views.fill,
    view) and by live inspection (control.py): an iterator of (name, value)
    in order -- "[i]" for list and tuple items, the key's repr for a dict,
    "{i}" for set items, the attribute name for an object's __dict__ -- or
    None when the value has no children. Views leave out the __dict__ of
    objects of builtin types (functions, modules); live inspection (live)
    opens them when asked."""
    t = type(obj)
    if t in _SCALARS:
        return None
    if isinstance(obj, (list, tuple)):
        return (("[%d]" % i, x) for i, x in enumerate(obj))
    if is_mapping(obj):
        # any mapping (os.environ, a mappingproxy, a ChainMap): its items,
        # named by key, so that the callers' redaction by name applies
        return ((_safe_repr(k, 60), x) for k, x in obj.items())
    if isinstance(obj, (set, frozenset)):
        return (("{%d}" % i, x) for i, x in enumerate(obj))
    d = getattr(obj, "__dict__", None)
    if isinstance(d, dict) and not isinstance(obj, type) and (live or t.__module__ not in ("builtins",)):
        return ((str(k), x) for k, x in d.items())
    return None


def child_count(obj):
    """How many children children() names in all."""
    return len(obj) if isinstance(obj, (list, tuple, set, frozenset)) or is_mapping(obj) else len(obj.__dict__)


def _items(obj):
    """(named children, up to MAX_CHILDREN; total count) or None."""
    it = children(obj)
    if it is None:
        return None
    return list(itertools.islice(it, MAX_CHILDREN)), child_count(obj)


class Views:
    """The bounded views of one snapshot (see BUDGET)."""

    def __init__(self, budget=BUDGET):
        self.budget = budget
        self.pending = []

    def root(self, obj, depth=MAX_DEPTH, priority=0, name=None):
        """The view of a variable; its children come with fill()."""
        if name is not None and redacted(name):
            return _hidden(obj)
        node = _node(obj)
        if depth <= 0 or type(obj) in _SCALARS:
            if depth <= 0 and _has_children(obj):
                node["more"] = True
        elif not isinstance(obj, _Null) and type(obj) is not Placeholder:
            self.pending.append((-priority, len(self.pending), node, obj, depth))
        return node

    def fill(self):
        self.pending.sort(key=lambda p: p[:2])
        level = [p[2:] for p in self.pending]
        self.pending = []
        while level:
            nxt = []
            for i, (node, obj, depth) in enumerate(level):
                if self.budget <= 0:
                    for node, obj, depth in level[i:]:
                        if _has_children(obj):
                            node["more"] = True
                    break
                try:
                    items = _items(obj)
                except Exception:  # noqa: BLE001 - user containers may raise
                    items = None
                if items is None:
                    continue
                kids = []
                for name, x in items[0]:
                    if self.budget <= 0:
                        break
                    self.budget -= 1
                    if redacted(name):
                        kids.append(_hidden(x, name))
                        continue
                    tn = _SCALARS.get(type(x))
                    if tn is not None:
                        kids.append({"type": tn, "repr": _safe_repr(x), "name": name})
                        continue
                    c = _node(x)
                    c["name"] = name
                    kids.append(c)
                    if type(x) in _SCALARS or isinstance(x, _Null) or type(x) is Placeholder:
                        continue
                    if depth > 1:
                        nxt.append((c, x, depth - 1))
                    elif _has_children(x):
                        c["more"] = True
                node["children"], node["len"] = kids, items[1]
            level = nxt


def _has_children(obj):
    return isinstance(obj, (list, tuple, set, frozenset)) or is_mapping(obj) or hasattr(obj, "__dict__")


def _children(obj, depth):
    items = _items(obj)
    if items is None:
        return None
    out = []
    for name, x in items[0]:
        c = _hidden(x) if redacted(name) else view(x, depth - 1)
        c["name"] = name
        out.append(c)
    return out, items[1]
