"""Serialising a snapshot's Python state and reading it back.

All roots of a snapshot (module globals, then each frame's locals, cells and
value-stack items, then extras) go through ONE pickler with one memo, dumped
one root after another, so an object reachable from two frames, or from a
frame and a global, is one object after loading. The program's own functions
and classes go by value (code via marshal, closure cells shared); library
functions and classes go by reference. What cannot be saved becomes a
Placeholder that names where it was recorded and raises if it is touched.
"""
import builtins
import copyreg
import gc
import importlib
import io
import itertools
import marshal
import os
import pickle
import reprlib
import sys
import types

from .frames import _Null
from . import stdvalues as V
from .stdvalues import _FAST, _SKIP_CLASS_ATTRS, set_attrs
from .stdvalues import closed_file, reopen_file  # noqa: F401 - (recordings made before they moved name them here)

PROTOCOL = 5  # 5: a bytearray goes to the file whole (BYTEARRAY8), as bytes do
CellType = types.CellType if hasattr(types, "CellType") else type((lambda x: lambda: x)(0).__closure__[0])


# ---------------------------------------------------------------- placeholders
class PlaceholderError(RuntimeError):
    pass


class Placeholder:
    """Stands for a value that could not be saved. Touching it raises."""

    __slots__ = ("_pr_where", "_pr_type", "_pr_repr")

    def __init__(self, where, typename, rep):
        object.__setattr__(self, "_pr_where", where)
        object.__setattr__(self, "_pr_type", typename)
        object.__setattr__(self, "_pr_repr", rep)

    def _pr_fail(self, *a, **k):
        raise PlaceholderError(
            "pyreplay: %s (%s %s) could not be saved in the snapshot and cannot be used after resume"
            % (object.__getattribute__(self, "_pr_where"), object.__getattribute__(self, "_pr_type"),
               object.__getattribute__(self, "_pr_repr"))
        )

    def __getattr__(self, name):
        self._pr_fail()

    def __setattr__(self, name, value):
        self._pr_fail()

    def __repr__(self):
        return "<unsaved %s %s>" % (object.__getattribute__(self, "_pr_type"),
                                    object.__getattribute__(self, "_pr_repr"))

    def __reduce__(self):
        return (Placeholder, (object.__getattribute__(self, "_pr_where"),
                              object.__getattribute__(self, "_pr_type"),
                              object.__getattribute__(self, "_pr_repr")))

    __call__ = __iter__ = __next__ = __len__ = __bool__ = __getitem__ = __setitem__ = _pr_fail
    __enter__ = __exit__ = __eq__ = __lt__ = __add__ = __contains__ = __hash__ = _pr_fail
    __str__ = __int__ = __float__ = __index__ = _pr_fail


# ---------------------------------------------------------------- rebuilders
# These are referenced by name from the pickle stream; keep their names.
_module_registry = {}


def user_module(name):
    m = _module_registry.get(name)
    if m is None:
        m = sys.modules.get(name) if name == "__main__" else None
        if m is None:
            m = types.ModuleType(name)
            # as an import gives it; functions made in this namespace take
            # their builtins from it when they are created (3.10+)
            m.__dict__["__builtins__"] = builtins.__dict__
        _module_registry[name] = m
        sys.modules[name] = m
    return m


def module_ns(name):
    return user_module(name).__dict__


def make_cell():
    return CellType()


def set_cell(cell, state):
    cell.cell_contents = state[0]


def make_function(code, globals_, name, closure, qualname):
    f = types.FunctionType(code, globals_, name, None, closure)
    f.__qualname__ = qualname
    return f


def make_class(meta, name, bases, ns):
    return meta(name, bases, ns)


def _di_used(it):
    """The size a dict (or set) iterator saw when it started (C field after
    the object header and the container pointer)."""
    try:
        import ctypes
        return ctypes.c_ssize_t.from_address(id(it) + 3 * ctypes.sizeof(ctypes.c_void_p)).value
    except Exception:  # noqa: BLE001
        return None


class _Broken:
    def __init__(self, msg):
        self.msg = msg

    def __iter__(self):
        return self

    def __next__(self):
        raise RuntimeError(self.msg)


def broken_iter(msg):
    return _Broken(msg)


def reorder_set(s, order):
    """Rebuild set s so that it iterates in the recorded order. Its layout
    depends on its table size and on the order items were inserted
    (collisions): try insertion orders, into a table grown one item at a
    time and into one sized at once (as set literals and set(other) do)."""
    import random
    if list(s) == order:
        return True
    rng = random.Random(len(order))
    perms = [list(order), list(reversed(order))]
    try:
        # constants are often written, or generated, in sorted order
        srt = sorted(order)
        perms += [srt, srt[::-1]]
    except TypeError:
        pass
    for _ in range(150):
        p = list(order)
        rng.shuffle(p)
        perms.append(p)

    def one_by_one(t, p):
        for x in p:
            t.add(x)

    def sized(t, p):
        t.update(dict.fromkeys(p))

    for p in perms:
        for build in (one_by_one, sized):
            t = set()
            build(t, p)
            if list(t) == order:
                s.clear()
                build(s, p)
                return list(s) == order
    return False


def rebuild_iter(owner, kind, consumed, order=None):
    if kind == "set":
        if order is not None and type(owner) is set:
            reorder_set(owner, order)  # before iterating: a rebuild resets it
        it = iter(owner)
    else:
        view = owner.values() if "values" in kind else owner.items() if "items" in kind else owner.keys()
        it = reversed(view) if kind.startswith("r") else iter(view)
    for _ in range(consumed):
        next(it)
    return it


def make_method(func, self_):
    return types.MethodType(func, self_)


class RunningGenerator:
    """Stands, while loading, for a generator whose frame is on the stack;
    replaced by the rebuilt generator once the frames exist."""

    def __init__(self, frame):
        self.frame = frame

    def __reduce__(self):
        return (RunningGenerator, (self.frame,))


def finished_generator():
    def done():
        return
        yield  # noqa: makes this a generator function
    g = done()
    for _ in g:
        pass
    return g


# set by resume.py: builds a suspended generator from its recorded frame
generator_factory = None


def make_generator(k, slots, stack):
    return generator_factory(k, slots, stack)


_compiled = {}

# How load_code compiles a program file again: resume sets it to the
# breakpoint triggers' compile (Triggers.compile_file), so that functions
# restored from a snapshot run the code of the resumed run's breakpoints
# (3.8-3.11 instrument code objects at compile time), not the recording's.
compile_file = None


def load_code(data, filename, name, firstlineno):
    """A code object of the program: the one compiling its file again gives
    (the recording verified the file is unchanged) when exactly one code
    object there has this name, first line and local names; else marshal's.
    Compiling again keeps what the recording process's code had (frozenset
    constants in the order the compiler built them: marshal re-inserts
    their items, which can change it) and leaves out what it should not:
    the hooks of the recording's breakpoints, compiled into its code on
    3.8-3.11."""
    code = marshal.loads(data)
    top = _compiled.get(filename)
    if top is None:
        try:
            with open(filename, "rb") as f:
                src = f.read()
            top = compile_file(src, filename) if compile_file else compile(src, filename, "exec", dont_inherit=True)
        except Exception:  # noqa: BLE001 - missing or changed: keep marshal's
            top = False
        _compiled[filename] = top
    if not top:
        return code
    found = []
    todo = [top]
    while todo:
        c = todo.pop()
        if c.co_name == name and c.co_firstlineno == firstlineno:
            found.append(c)
        todo.extend(k for k in c.co_consts if isinstance(k, types.CodeType))
    if len(found) == 1 and found[0].co_varnames == code.co_varnames and found[0].co_argcount == code.co_argcount:
        return found[0]
    for c in found:
        if c.co_code == code.co_code:
            return _same_sets(code, c)
    return code


def _same_sets(code, fresh):
    """code with its frozenset constants taken from fresh where equal."""
    sets = [k for k in fresh.co_consts if type(k) is frozenset]
    nested = {(k.co_name, k.co_firstlineno): k for k in fresh.co_consts if isinstance(k, types.CodeType)}
    consts = []
    changed = False
    for k in code.co_consts:
        if type(k) is frozenset:
            for f in sets:
                if f == k:
                    k, changed = f, True
                    break
        elif isinstance(k, types.CodeType) and (k.co_name, k.co_firstlineno) in nested:
            k2 = _same_sets(k, nested[(k.co_name, k.co_firstlineno)])
            changed = changed or k2 is not k
            k = k2
        consts.append(k)
    return code.replace(co_consts=tuple(consts)) if changed else code


def std_stream(name):
    return getattr(sys, name)


def set_exc_state(exc, state):
    own, extra = state
    if own:
        if isinstance(own, tuple):
            d, slots = own
            own = dict(d or {}, **(slots or {}))
        for k, v in own.items():
            setattr(exc, k, v)
    for k, v in extra.items():
        setattr(exc, k, v)


def update_ns(ns, items):
    ns.update(items)


# ---------------------------------------------------------------- pickler
_NOT_SAVABLE = set()
for _n in ("GeneratorType", "CoroutineType", "AsyncGeneratorType", "FrameType", "TracebackType"):
    if hasattr(types, _n):
        _NOT_SAVABLE.add(getattr(types, _n))

_MEMORY_FILES = {io.StringIO, io.BytesIO}
_LOCK = type(__import__("_thread").allocate_lock())
_RLOCK = type(__import__("_thread").RLock())

_DICT_ITERS = {type(iter({})): "keys", type(iter({}.values())): "values", type(iter({}.items())): "items",
               type(reversed({})): "rkeys", type(reversed({}.values())): "rvalues",
               type(reversed({}.items())): "ritems"}
_SET_ITER = type(iter(set()))
_DESCRIPTORS = {types.WrapperDescriptorType, types.MethodDescriptorType, types.MethodWrapperType} - {None}


class StatePickler(pickle.Pickler):
    def __init__(self, file, user_modules, placeholders):
        super().__init__(file, protocol=PROTOCOL)
        self.user_modules = user_modules
        self.placeholders = placeholders
        self.where = ""
        self.generator_hook = None
        self._user_dicts = {}
        for name in user_modules:
            m = sys.modules.get(name)
            if m is not None:
                self._user_dicts[id(m.__dict__)] = name

    def placeholder(self, obj, why=""):
        tn = _typename(obj)
        rep = _safe_repr(obj, 80)
        self.placeholders.append({"where": self.where, "type": tn, "repr": rep, "why": why})
        return (Placeholder, (self.where, tn, rep))

    def _is_user(self, modname):
        return modname in self.user_modules

    def reducer_override(self, obj):
        t = type(obj)
        if t in _FAST or t is _Null:
            return NotImplemented
        if t is types.FunctionType:
            api = sys.modules.get("pyreplay")
            if api is not None and getattr(api, obj.__name__, None) is obj:
                # pyreplay.snapshot and friends: the resumed process has its own
                return (V.library_global, ("pyreplay", obj.__name__))
            # (by its globals, not __module__: functools.wraps copies that
            # from the function it wraps)
            if id(obj.__globals__) in self._user_dicts or self._is_user(getattr(obj, "__module__", None)) \
                    or "<locals>" in obj.__qualname__ or obj.__name__ == "<lambda>":
                return self._reduce_function(obj)
            return NotImplemented
        if isinstance(obj, type):
            if self._is_user(getattr(obj, "__module__", None)) or "<locals>" in getattr(obj, "__qualname__", ""):
                return self._reduce_class(obj)
            mod = sys.modules.get(getattr(obj, "__module__", None) or "")
            if getattr(mod, obj.__qualname__, None) is not obj:
                # an interpreter type without an importable name (e.g. the type
                # of builtin functions): find it in the types module
                for k, v in vars(types).items():
                    if v is obj:
                        return (getattr, (types, k))
            return NotImplemented
        if t in _DICT_ITERS or t is _SET_ITER:
            # an iterator over a live dict or set: rebuild it over the same
            # (restored) object at the same position, so that mutation
            # during the rest of the loop behaves as it would have
            owner = next((r for r in gc.get_referents(obj) if isinstance(r, (dict, set, frozenset))), None)
            if owner is not None:
                try:
                    consumed = len(owner) - obj.__length_hint__()
                except Exception:  # noqa: BLE001
                    consumed = -1
                if consumed >= 0:
                    if isinstance(owner, dict) and _di_used(obj) not in (None, len(owner)):
                        # the dict changed size: the next step raises
                        return (broken_iter, ("dictionary changed size during iteration",))
                    if isinstance(owner, set) and _di_used(obj) not in (None, len(owner)):
                        return (broken_iter, ("Set changed size during iteration",))
                    if t is _SET_ITER:
                        return (rebuild_iter, (owner, "set", consumed, list(owner)))
                    return (rebuild_iter, (owner, _DICT_ITERS.get(t, "set"), consumed))
            return NotImplemented
        if t in _DESCRIPTORS:
            owner = obj.__self__ if t is types.MethodWrapperType else obj.__objclass__
            return (getattr, (owner, obj.__name__))
        if t is CellType:
            try:
                v = obj.cell_contents
            except ValueError:
                return (make_cell, ())
            return (make_cell, (), (v,), None, None, set_cell)
        if t is types.ModuleType:
            if self._is_user(obj.__name__):
                return (user_module, (obj.__name__,))
            return (importlib.import_module, (obj.__name__,))
        if t is types.CodeType:
            return (load_code, (_marshal(obj), obj.co_filename, obj.co_name, obj.co_firstlineno))
        if t is ModuleNamespace:
            return (module_ns, (obj.name,), obj.items, None, None, update_ns)
        if t is staticmethod or t is classmethod:
            return (t, (obj.__func__,))
        if t is property:
            return (property, (obj.fget, obj.fset, obj.fdel, obj.__doc__))
        if t is types.MethodType:
            return (make_method, (obj.__func__, obj.__self__))
        if isinstance(obj, BaseException):
            try:
                rv = obj.__reduce_ex__(PROTOCOL)
            except Exception as e:  # noqa: BLE001
                return self.placeholder(obj, str(e))
            # keep the chain (cause, context) that pickle would drop
            extra = {"__cause__": obj.__cause__, "__context__": obj.__context__,
                     "__suppress_context__": obj.__suppress_context__}
            state = rv[2] if len(rv) > 2 else None
            return (rv[0], rv[1], (state, extra), None, None, set_exc_state)
        if t is types.GeneratorType and self.generator_hook is not None:
            rv = self.generator_hook(self, obj)
            if rv is not None:
                return rv
        if t in _NOT_SAVABLE:
            return self.placeholder(obj, "generators, frames and tracebacks cannot be saved")
        ref = V.library_global_ref(self, obj)
        if ref is not None:
            return ref
        if t.__name__ == "_lru_cache_wrapper" and t.__module__ == "functools":
            return V.reduce_lru(self, obj)
        if t in _MEMORY_FILES:
            return NotImplemented  # io.StringIO / BytesIO pickle their value and position
        if isinstance(obj, io.IOBase):
            return self._reduce_file(obj)
        if t is _LOCK:
            return (V.make_lock, (obj.locked(),))
        if t.__name__ == "finalize" and t.__module__ == "weakref":
            return V.reduce_finalize(obj)
        if t is _RLOCK:
            return V.reduce_rlock(self, obj)
        if t.__name__ == "Match" and t.__module__ == "re":
            return (V.make_match, (obj.re, obj.string, obj.pos, obj.endpos, obj.regs))
        reg = copyreg.dispatch_table.get(t)
        if reg is not None:
            # what pickle itself would use (re.Pattern registers one); calling
            # __reduce_ex__ below would bypass it
            try:
                return reg(obj)
            except Exception as e:  # noqa: BLE001
                return self.placeholder(obj, str(e))
        try:
            rv = obj.__reduce_ex__(PROTOCOL)
        except Exception as e:  # noqa: BLE001 - any failure means "cannot save"
            return self.placeholder(obj, str(e))
        return rv

    def _reduce_function(self, f):
        modname = getattr(f, "__module__", None)
        # its globals are the module whose __dict__ they are: __module__ may
        # be another's (functools.wraps copies it, e.g. contextlib's helper
        # carries the decorated function's)
        gname = self._user_dicts.get(id(f.__globals__))
        if gname is not None:
            g = ModuleNamespace(gname, None)
        else:
            gname = f.__globals__.get("__name__")
            m = sys.modules.get(gname) if isinstance(gname, str) else None
            if m is not None and m.__dict__ is f.__globals__:
                g = ModuleNamespace(gname, None) if self._is_user(gname) else _LibGlobals(gname)
            else:
                return self.placeholder(f, "function with foreign globals")
        closure = f.__closure__
        state = {}
        if f.__defaults__ is not None:
            state["__defaults__"] = f.__defaults__
        if f.__kwdefaults__ is not None:
            state["__kwdefaults__"] = f.__kwdefaults__
        if f.__dict__:
            state["__dict__"] = dict(f.__dict__)
        if getattr(f, "__annotations__", None):
            state["__annotations__"] = f.__annotations__
        state["__module__"] = modname
        state["__doc__"] = f.__doc__
        return (make_function, (f.__code__, g, f.__name__, closure, f.__qualname__), state, None, None,
                set_attrs)

    def _reduce_class(self, cls):
        meta = type(cls)
        enum = sys.modules.get("enum")
        if enum is not None and isinstance(cls, enum.EnumMeta) and cls._member_map_:
            return V.reduce_enum(self, cls)
        if cls.__bases__ == (tuple,) and "_make" in cls.__dict__ and hasattr(cls, "_fields"):
            return V.reduce_namedtuple(self, cls)
        ns = {}
        later = {}
        for k, v in cls.__dict__.items():
            if k in _SKIP_CLASS_ATTRS:
                continue
            if type(v).__name__ == "member_descriptor" and k in (getattr(cls, "__slots__", ()) or ()):
                continue
            if k in ("__slots__", "__qualname__", "__module__", "__doc__"):
                ns[k] = v
            else:
                later[k] = v
        ns.setdefault("__qualname__", cls.__qualname__)
        ns.setdefault("__module__", cls.__module__)
        return (make_class, (meta, cls.__name__, cls.__bases__, ns), later or None, None, None, set_attrs)

    def _reduce_file(self, f):
        for name in ("stdout", "stderr", "stdin", "__stdout__", "__stderr__", "__stdin__"):
            if f is getattr(sys, name, None):
                return (std_stream, (name.strip("_"),))
        name = getattr(f, "name", None)
        mode = getattr(f, "mode", "r")
        if isinstance(f, io.TextIOWrapper):
            kind = "text"
        elif isinstance(f, io.FileIO):
            kind = "raw"
        else:
            kind = "buffered"
        if f.closed and isinstance(name, (str, int)):
            # (its name, mode and encoding: the program may still show them)
            text = kind == "text"
            return (closed_file, (name, mode, kind, f.encoding if text else None, f.errors if text else None))
        if not isinstance(name, str) or not os.path.isfile(name):
            return self.placeholder(f, "not a regular file")
        try:
            if kind == "text" or kind == "buffered":
                f.flush() if any(c in mode for c in "wax+") else None
            pos = f.tell()
        except Exception as e:  # noqa: BLE001
            return self.placeholder(f, "file position unknown: %s" % e)
        if kind == "text":
            return (reopen_file, (os.path.abspath(name), mode, pos, f.encoding, f.errors,
                                  f.newlines if isinstance(f.newlines, str) else None, kind, name))
        return (reopen_file, (os.path.abspath(name), mode, pos, None, None, None, kind, name))


_marshal_cache = {}


def _marshal(code):
    """marshal.dumps of a code object, once per code object (they are
    immutable; the entry keeps it alive, so that its id is not reused)."""
    ent = _marshal_cache.get(id(code))
    if ent is None or ent[0] is not code:
        if len(_marshal_cache) > 10000:
            _marshal_cache.clear()
        ent = _marshal_cache[id(code)] = (code, marshal.dumps(code))
    return ent[1]


def _lib_globals(name):
    return importlib.import_module(name).__dict__


class _LibGlobals:
    def __init__(self, name):
        self.name = name

    def __reduce__(self):
        return (_lib_globals, (self.name,))


class ModuleNamespace:
    """A root standing for the globals of one of the program's own modules."""

    def __init__(self, name, items):
        self.name = name
        self.items = items


def _typename(obj):
    t = type(obj)
    m = getattr(t, "__module__", "builtins")
    return t.__qualname__ if m in ("builtins", "__main__") else "%s.%s" % (m, t.__qualname__)


_BIG_INT = 14000  # bits: about 4,200 decimal digits


class _Repr(reprlib.Repr):
    """reprlib.Repr whose dispatch (repr_<typename>, else repr_instance) is
    looked up once per built-in type instead of by name at every call; the
    output is reprlib's own."""

    _builtin = {}
    # view.redacted once configured: dict values under secret-looking keys
    # are not shown in reprs either
    hide = None
    # repr_instance of these is their repr, never cut (at most 24 characters)
    _plain = {float, bool, type(None)}

    def repr1(self, x, level):
        t = type(x)
        if t in self._plain:
            return repr(x)
        if t is int:
            if x.bit_length() > _BIG_INT:
                # its decimal repr is quadratic (3.8-3.10) or refused (3.11+)
                return "<int of %d bits>" % x.bit_length()
            s = repr(x)
            if len(s) <= self.maxlong:
                return s
        elif t is str and len(x) <= self.maxstring:
            s = repr(x)  # = repr_str's, when no escapes make it too long
            if len(s) <= self.maxstring:
                return s
        m = self._builtin.get(t)
        if m is not None:
            return m(self, x, level)
        if self.hide is not None and V.is_mapping(x):
            r = self._repr_secret_mapping(x, level)
            if r is not None:
                return r
        return reprlib.Repr.repr1(self, x, level)

    def _repr_secret_mapping(self, x, level):
        """A mapping other than a dict (os.environ, a mappingproxy, a
        ChainMap, a dict subclass) with a secret-looking key among its
        first keys: its items as a dict's repr, the secrets' values
        redacted; else None (its own repr)."""
        try:
            for key in itertools.islice(iter(x), 1000):
                if type(key) in (str, bytes) and self.hide(repr(key)):
                    break
            else:
                return None
            name = "environ" if isinstance(x, os._Environ) else type(x).__name__
            return "%s(%s)" % (name, self.repr_dict(x, level))
        except Exception:  # noqa: BLE001 - a user mapping may raise anything
            return "<%s>" % type(x).__name__

    def _repr_iterable(self, x, level, left, right, maxiter, trail=""):
        # reprlib's (with indent None and fillvalue "..."), the common
        # elements made in place rather than by a repr1 call each
        n = len(x)
        if level <= 0 and n:
            s = "..."
        else:
            newlevel = level - 1
            plain, maxlong, maxstring = self._plain, self.maxlong, self.maxstring
            pieces = []
            for elem in itertools.islice(x, maxiter):
                t = type(elem)
                if t in plain:
                    pieces.append(repr(elem))
                    continue
                if t is int and elem.bit_length() <= _BIG_INT:
                    r = repr(elem)
                    if len(r) <= maxlong:
                        pieces.append(r)
                        continue
                elif t is str and len(elem) <= maxstring:
                    r = repr(elem)
                    if len(r) <= maxstring:
                        pieces.append(r)
                        continue
                pieces.append(self.repr1(elem, newlevel))
            if n > maxiter:
                pieces.append("...")
            s = ", ".join(pieces)
            if n == 1 and trail:
                right = trail + right
        return "%s%s%s" % (left, s, right)

    def repr_bytes(self, x, level):
        # the first maxstring bytes only: a full repr of a 200 MB value would
        # take seconds and four times its size in memory
        if len(x) <= self.maxstring:
            return repr(x)
        return repr(x[:self.maxstring])[:-1] + "..." + repr(x[:1])[-1]

    def repr_bytearray(self, x, level):
        if len(x) <= self.maxstring:
            return repr(x)
        return "bytearray(%s)" % self.repr_bytes(bytes(x[:self.maxstring + 1]), level)

    def repr_int(self, x, level):
        if x.bit_length() > _BIG_INT:
            return "<int of %d bits>" % x.bit_length()
        return reprlib.Repr.repr_int(self, x, level)

    def repr_set(self, x, level):
        # reprlib's, without sorting a big set for its first dozen items
        if not x:
            return "set()"
        return self._repr_iterable(reprlib._possibly_sorted(x) if len(x) <= 1000 else x, level, "{", "}", self.maxset)

    def repr_frozenset(self, x, level):
        if not x:
            return "frozenset()"
        return self._repr_iterable(reprlib._possibly_sorted(x) if len(x) <= 1000 else x, level,
                                   "frozenset({", "})", self.maxfrozenset)

    def repr_dict(self, x, level):
        # reprlib's (keys sorted when they can be), as _repr_iterable above
        n = len(x)
        if n == 0:
            return "{}"
        if level <= 0:
            return "{...}"
        newlevel = level - 1
        plain, repr1 = self._plain, self.repr1
        pieces = []
        # reprlib sorts the keys; a big dict shows its first keys unsorted
        # rather than sorting millions of them for a dozen
        keys = reprlib._possibly_sorted(x) if n <= 1000 else x
        for key in itertools.islice(keys, self.maxdict):
            val = x[key]
            k = repr(key) if type(key) in plain else repr1(key, newlevel)
            if self.hide is not None and type(key) in (str, bytes) and self.hide(k):
                v = "<redacted>"
            else:
                v = repr(val) if type(val) in plain else repr1(val, newlevel)
            pieces.append("%s: %s" % (k, v))
        if n > self.maxdict:
            pieces.append("...")
        return "{%s}" % (", ".join(pieces),)


for _t in (int, float, complex, str, bytes, bytearray, bool, type(None), list, tuple, dict, set, frozenset):
    _Repr._builtin[_t] = getattr(_Repr, "repr_" + _t.__name__, _Repr.repr_instance)
del _t

_repr = _Repr()
_repr.maxstring = 120
_repr.maxother = 120
_repr.maxlist = _repr.maxtuple = _repr.maxset = _repr.maxdict = 12
_repr.maxlevel = 3


def _safe_repr(obj, limit=200):
    m = _Repr._builtin.get(type(obj))
    try:
        r = m(_repr, obj, _repr.maxlevel) if m is not None else _repr.repr(obj)
    except Exception as e:  # noqa: BLE001 - a user __repr__ may raise anything
        r = "<repr failed: %s>" % type(e).__name__
    if len(r) > limit:
        r = r[: limit - 3] + "..."
    return r


class FrozenPickler(StatePickler):
    """A StatePickler that writes the frozensets of self.frozen as the
    insertion order that reproduces their iteration order. pickle writes a
    frozenset natively (no reducer is asked), so it is intercepted with
    persistent_id, which pickle calls for every object: slower, used only
    when such a frozenset is in the state."""

    frozen = {}

    def persistent_id(self, obj):
        ent = self.frozen.get(id(obj))
        if ent is not None and ent[0] is obj:
            return ("frozenset", ent[1])
        return None


class StateUnpickler(pickle.Unpickler):
    """Reads what StatePickler and FrozenPickler write."""

    def persistent_load(self, pid):
        if pid[0] == "frozenset":
            return frozenset(pid[1])
        raise pickle.UnpicklingError("unknown persistent id %r" % (pid[0],))
