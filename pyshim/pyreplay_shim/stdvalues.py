"""Standard-library values and the program's classes that pickle cannot
save as they are, and how they are made again (the make_* rebuilders are
named in pickle streams: keep their names): locks, re.Match, Enum and
namedtuple classes, lru_cache wrappers, frozensets whose iteration order
re-insertion would change, and library modules' global instances (by
reference). The reduce_* functions are StatePickler's (state.py), given the
pickler as p."""
import collections
import importlib
import itertools
import os
import sys
import types



_FAST = {int, float, complex, str, bytes, bytearray, bool, type(None), range, slice, list, tuple, dict, set, frozenset}

# made again by type() / ABCMeta when the class is rebuilt (_abc_impl is
# ABCMeta's C cache of registrations and subclass checks: it cannot be saved)
_SKIP_CLASS_ATTRS = {"__dict__", "__weakref__", "_abc_impl"}


def set_attrs(obj, state):
    for k, v in state.items():
        setattr(obj, k, v)


def make_enum(meta, name, bases, members, ns):
    """An Enum class of the program: its body's namespace as the class
    statement filled it (members first, in definition order, aliases
    included), so the metaclass makes the same members again."""
    body = meta.__prepare__(name, bases)
    # sunder and dunder names first: 3.12+ wants _generate_next_value_
    # defined before any member
    for k, v in ns.items():
        if k.startswith("_") and k.endswith("_"):
            body[k] = v
    for k, v in members:
        body[k] = v
    for k, v in ns.items():
        if not (k.startswith("_") and k.endswith("_")):
            body[k] = v
    return meta(name, bases, body)


def make_namedtuple(name, fields, defaults, module, qualname):
    import collections
    cls = collections.namedtuple(name, fields, defaults=defaults, module=module)
    cls.__qualname__ = qualname
    return cls


def make_lock(locked):
    import _thread
    lock = _thread.allocate_lock()
    if locked:
        lock.acquire()
    return lock


def make_finalize(target, func, args, kwargs, atexit):
    """A weakref.finalize registered again (reduce_finalize); target None:
    one already called or detached (alive False)."""
    import weakref
    if target is None:
        return weakref.finalize.__new__(weakref.finalize)
    f = weakref.finalize(target, func, *args, **(kwargs or {}))
    f.atexit = atexit
    return f


def reduce_finalize(obj):
    """A weakref.finalize by what it will call on what (the registry its
    class keeps is not in the object): made again and registered again
    when the state loads, so that it runs when its object goes, as in the
    original run (TemporaryDirectory's cleanup, a program's own)."""
    import weakref
    info = weakref.finalize._registry.get(obj)
    target = info.weakref() if info is not None else None
    if target is None:
        return (make_finalize, (None, None, (), None, False))
    return (make_finalize, (target, info.func, info.args, info.kwargs, info.atexit))


def live_finalizers():
    """The weakref.finalize objects waiting for their object, in the order
    they were made (libstate.capture: a program often keeps none of them
    itself, only its object)."""
    weakref = sys.modules.get("weakref")
    if weakref is None:
        return []
    from .paths import is_shim_file
    live = []
    for f, info in list(weakref.finalize._registry.items()):
        code = getattr(info.func, "__code__", None)
        if code is not None and is_shim_file(code.co_filename):
            continue  # (the shim's own)
        if info.weakref() is not None:
            live.append((info.index, f))
    return [f for _, f in sorted(live, key=lambda x: x[0])]


def reopen_file(path, mode, pos, encoding, errors, newline, binary_kind, name=None):
    """The program's open file again, in its own mode (its repr, mode,
    readable() and writable() as they were): a file being written ("w",
    "x") is opened without truncating it, then cut at the position it was
    written up to, "a" appends again; reading or writing goes on at pos.
    name: the name the program opened it by (path is its absolute path)."""
    if not os.path.isfile(path):
        raise FileNotFoundError("the program had %s open (mode %r, position %d) and it no longer exists"
                                % (path, mode, pos))
    f = open_as(path, mode, encoding, errors, newline, binary_kind, path if name is None else name)
    if any(c in mode for c in "wax"):
        f.truncate(pos)
    f.seek(pos)
    return f


def closed_file(name, mode, kind=None, encoding=None, errors=None, newline=None):
    """A closed file as the program's was: its type, name, mode, encoding
    and errors (so its repr), opened on os.devnull and closed. kind None:
    a recording made before these were kept (text or buffered by mode)."""
    if kind is None:
        kind = "buffered" if "b" in mode else "text"
    # (posix's open: in a re-execution os.open is the sandbox's, which
    # would open a private copy of os.devnull, and there is none)
    import posix
    f = open_as(os.devnull, mode, encoding, errors, newline, kind, name, os_open=posix.open)
    f.close()
    return f


def open_as(path, mode, encoding, errors, newline, kind, name, readonly=False, os_open=None):
    """path opened as the program opened its file: of kind ("text",
    "buffered" or "raw": buffering=0), in mode (by its descriptor, so "w"
    and "x" neither create nor truncate), its name the program's name.
    readonly: the descriptor is read-only whatever the mode (writing
    fails), for evaluation in the past. os_open: what opens the
    descriptor; None: os.open as it is now (in a re-execution the
    sandbox's, opening a private copy of a file the program writes)."""
    writes = any(c in mode for c in "wax")
    if readonly:
        flags = os.O_RDONLY
    elif "+" in mode:
        flags = os.O_RDWR
    else:
        flags = os.O_WRONLY if writes else os.O_RDONLY
    if "a" in mode and not readonly:
        flags |= os.O_APPEND
    fd = (os_open or os.open)(path, flags | getattr(os, "O_CLOEXEC", 0))
    # (a text file's "x" as "w": its mode is its own attribute, set below;
    # a binary one's is its descriptor's, read-only, and FileIO keeps "x")
    fmode = mode.replace("x", "w")
    try:
        if "b" in mode:
            f = open(fd, mode, buffering=0) if kind == "raw" else open(fd, mode)
        else:
            f = open(fd, fmode, encoding=encoding, errors=errors, newline=newline)
    except BaseException:
        os.close(fd)
        raise
    raw = f if kind == "raw" else (f.buffer.raw if "b" not in mode else f.raw)
    raw.name = name
    if fmode != mode and "b" not in mode:
        f.mode = mode
    return f


def make_lru(func, maxsize, typed):
    import functools
    return functools.lru_cache(maxsize=maxsize, typed=typed)(func)


def make_rlock(count):
    """An RLock held `count` times by the thread that resumes (the one that
    held it when recording: only the main thread is resumed)."""
    import threading
    lock = threading.RLock()
    for _ in range(count):
        lock.acquire()
    return lock


def make_match(pattern, string, pos, endpos, regs):
    """A re.Match: the same pattern run again over the same string. Which
    method made it is not recorded, so the candidates are tried in turn and
    the one that reproduces every group's span is kept."""
    start, end = regs[0]
    for m in (pattern.search(string, pos, endpos), pattern.fullmatch(string, pos, endpos),
              pattern.match(string, start, endpos), pattern.fullmatch(string, start, end)):
        if m is not None and m.regs == regs:
            return m
    raise ValueError("a re.Match object of %r could not be rebuilt" % pattern.pattern)

def frozen_order(fs):
    """An insertion order from which frozenset() makes fs again with the same
    iteration order in this process (same hash seed), or None. Its order
    depends on the history of the table it was built in (a union, a copy),
    which re-inserting in iteration order may not reproduce."""
    import random
    order = list(fs)
    cands = [order, order[::-1]]
    try:
        # constants are often written, or generated, in sorted order
        srt = sorted(order)
        cands += [srt, srt[::-1]]
    except TypeError:
        pass
    rng = random.Random(len(order))
    for _ in range(150):
        p = list(order)
        rng.shuffle(p)
        cands.append(p)
    for p in cands:
        if list(frozenset(p)) == order:
            return p
    return None


# id -> (object, module, name) of the library modules' global instances;
# rebuilt when the set of modules changes, checked at every use
_lib_index = {}
_lib_index_size = [-1]
_BY_NAME = (types.ModuleType, types.FunctionType, types.BuiltinFunctionType, type)


def _index_library_globals(user_modules):
    _lib_index.clear()
    user = set(user_modules)
    for mname, m in list(sys.modules.items()):
        if m is None or mname in user or mname.startswith("pyreplay_shim"):
            continue
        try:
            items = list(vars(m).items())
        except TypeError:
            continue
        for k, v in items:
            t = type(v)
            if t in _FAST or isinstance(v, _BY_NAME) or k.startswith("__"):
                continue
            _lib_index.setdefault(id(v), (v, mname, k))
    _lib_index_size[0] = len(sys.modules)


def library_global(module, name):
    return getattr(importlib.import_module(module), name)


def library_global_ref(p, obj):
    """A global of a library module (a sentinel such as sched's
    `_sentinel = object()`, dataclasses.MISSING, a module-level
    singleton) goes by reference: library code tests them with `is`."""
    if len(sys.modules) != _lib_index_size[0]:
        _index_library_globals(p.user_modules)
    ent = _lib_index.get(id(obj))
    if ent is None or ent[0] is not obj:
        return None
    m = sys.modules.get(ent[1])
    if m is None or getattr(m, ent[2], None) is not obj:
        return None
    return (library_global, (ent[1], ent[2]))


def reduce_lru(p, f):
    """functools.lru_cache / cache around a function: made again around
    the same function while its cache is empty; a filled cache cannot be
    read back (its C table has no API), and an empty one would run the
    function again where the original returned a cached object."""
    wrapped = getattr(f, "__wrapped__", None)
    if wrapped is None or not isinstance(wrapped, types.FunctionType):
        return p.placeholder(f, "an lru_cache around a non-function")
    if f.cache_info().currsize:
        return p.placeholder(f, "an lru_cache holding %d results (a cache cannot be saved)" % f.cache_info().currsize)
    params = f.cache_parameters() if hasattr(f, "cache_parameters") else {"maxsize": f.cache_info().maxsize, "typed": False}
    state = {k: v for k, v in vars(f).items() if k != "__wrapped__"}
    return (make_lru, (wrapped, params["maxsize"], params["typed"]), state or None, None, None, set_attrs)


def reduce_rlock(p, lock):
    # the C RLock shows its owner and count only in its repr:
    # "<unlocked _thread.RLock object owner=0 count=0 at 0x...>"
    import threading
    try:
        fields = dict(p.split("=") for p in repr(lock).split() if p.startswith(("owner=", "count=")))
        owner, count = int(fields["owner"]), int(fields["count"])
    except (KeyError, ValueError):
        return p.placeholder(lock, "its state could not be read")
    if count and owner != threading.get_ident():
        return p.placeholder(lock, "held by another thread")
    return (make_rlock, (count,))


def reduce_enum(p, cls):
    """Members by value in definition order, and what the class body
    defined itself (functions, properties, nested names); the metaclass
    makes everything else again."""
    members = [(k, m._value_) for k, m in cls._member_map_.items()]
    ns = {}
    for k, v in cls.__dict__.items():
        if k in cls._member_map_ or k in _SKIP_CLASS_ATTRS:
            continue
        f = getattr(v, "__func__", v)
        if isinstance(f, types.FunctionType) and (id(f.__globals__) in p._user_dicts
                                                   or p._is_user(getattr(f, "__module__", None))):
            ns[k] = v
        elif k in ("__module__", "__qualname__", "__doc__") or not (k.startswith("_") and k.endswith("_")):
            ns[k] = v
    return (make_enum, (type(cls), cls.__name__, cls.__bases__, members, ns))


def reduce_namedtuple(p, cls):
    """collections.namedtuple (or typing.NamedTuple) made again, then
    what the class statement added (methods, docstring)."""
    import collections
    defaults = tuple(cls._field_defaults[f] for f in cls._fields if f in cls._field_defaults) or None
    fresh = collections.namedtuple(cls.__name__, cls._fields, defaults=defaults)
    later = {k: v for k, v in cls.__dict__.items()
             if k not in _SKIP_CLASS_ATTRS and k not in ("__module__", "__qualname__")
             and (k not in fresh.__dict__ or k == "__doc__")}
    rv = (make_namedtuple, (cls.__name__, cls._fields, defaults, cls.__module__, cls.__qualname__))
    return rv + ((later or None), None, None, set_attrs)


def _unstable_set(s):
    """A set of strings or bytes whose iteration order a fresh process,
    re-inserting its items, would not reproduce (hash-dependent layout)."""
    if len(s) < 2 or not any(isinstance(x, (str, bytes)) for x in s):
        return False
    items = list(s)
    return list(type(s)(items)) != items


def unstable_sets(manifest, values, is_user_file):
    """Such sets in the variables themselves and one level inside their
    containers and attributes (a bounded scan, not the whole heap): where the
    frozen ones whose order no insertion order reproduces are (they cannot be
    fixed up), the mutable ones, whose order the resume restores, and the
    frozen ones pickled as an insertion order that reproduces theirs
    ({id: (frozenset, order)}, see state.FrozenPickler)."""
    out = []
    fixable = []
    frozen = {}
    for m, v in zip(manifest, values):
        kids = [v]
        if isinstance(v, (list, tuple)):
            kids += v[:200]
        elif isinstance(v, dict):
            kids += itertools.islice(v.values(), 200)
        elif hasattr(v, "__dict__") and not isinstance(v, (type, types.ModuleType, types.FunctionType)) \
                and is_user_file(getattr(sys.modules.get(type(v).__module__), "__file__", None) or ""):
            try:
                kids += itertools.islice(vars(v).values(), 200)
            except TypeError:
                pass
        for k in kids:
            if isinstance(k, (set, frozenset)) and _unstable_set(k):
                if type(k) is set:
                    fixable.append(k)
                elif type(k) is frozenset and (order := frozen_order(k)) is not None:
                    frozen[id(k)] = (k, order)
                else:
                    out.append(m[3])
                    break
    return out, fixable, frozen


# the mappings whose items the views show (redacted by key): the standard
# library's, whose iteration runs no program code during a snapshot
_MAPPINGS = (dict, os._Environ, types.MappingProxyType, collections.ChainMap, collections.UserDict)


def is_mapping(obj):
    """A dict or another of the standard library's mappings (os.environ, a
    mappingproxy, a ChainMap, a UserDict): its items are its children in
    the views, redacted by key."""
    return isinstance(obj, _MAPPINGS)
