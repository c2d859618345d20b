"""Resuming into edited source (pyreplay resume --allow-edited): once the
snapshot's state is loaded, the program's objects get the new code of
each edited file (the resume's config "edits", from launch.PlanFor):

- every function of the module alive in its namespace or in its classes
  (and the functions decorators wrap, through __wrapped__) takes the code
  compiled from the new file for its qualified name, in place: whatever
  refers to it (a bound method, a registry, a decorator's wrapper) calls
  the new code, with the new file's line numbers;
- a changed class keeps its identity (its instances stay instances): the
  members the edit changed or added are set on it, the removed ones go;
- added functions, classes and imports, and changed module-level
  assignments (constants), run from the new text in the module.

Frames on the stack continue in the new text by themselves: their plan was
built from it (reconstruct/edited.go).
"""
import ast
import types

from . import state as S

_SKIP = ("__dict__", "__weakref__", "__module__", "__qualname__", "__doc__")


def apply(edits, trig):
    for e in edits:
        mod = e.get("module")
        if not mod:
            continue
        ns = S.module_ns(mod)
        path = e["path"]
        with open(path, "rb") as f:
            src = f.read()
        codes = _codes_by_qualname(trig.compile_file(src, path))
        swapped = _swap_code(ns, mod, codes)
        defs = e.get("defs") or []
        if defs:
            _define(ast.parse(src, path), defs, ns, path, trig, swapped)


def _codes_by_qualname(top):
    """The function code objects of a compiled module by qualified name
    (the last one of a name: the definition that wins at run time)."""
    out = {}

    def walk(code, prefix):
        for k in code.co_consts:
            if not isinstance(k, types.CodeType):
                continue
            q = getattr(k, "co_qualname", None) or prefix + k.co_name
            if k.co_flags & 0x1:  # CO_OPTIMIZED: a function, not a class body
                out[q] = k
                walk(k, q + ".<locals>.")
            else:
                walk(k, q + ".")

    walk(top, "")
    return out


def _swap_code(ns, mod, codes):
    """Give every function of the module its new code; returns the
    qualified names done."""
    done = set()
    seen = set()

    def fix(f):
        while isinstance(f, types.FunctionType) and id(f) not in seen:
            seen.add(id(f))
            if f.__module__ == mod:
                new = codes.get(f.__qualname__)
                if new is not None and new.co_freevars == f.__code__.co_freevars:
                    f.__code__ = new
                    done.add(f.__qualname__)
            f = getattr(f, "__wrapped__", None)

    def members(cls):
        if id(cls) in seen:
            return
        seen.add(id(cls))
        for a in list(cls.__dict__.values()):
            if isinstance(a, (staticmethod, classmethod)):
                a = a.__func__
            if isinstance(a, property):
                for g in (a.fget, a.fset, a.fdel):
                    fix(g)
            elif isinstance(a, type) and a.__module__ == mod:
                members(a)
            else:
                fix(a)

    for v in list(ns.values()):
        if isinstance(v, type) and getattr(v, "__module__", None) == mod:
            members(v)
        else:
            fix(v)
    return done


def _define(tree, defs, ns, path, trig, swapped):
    by_line = {d["line"]: d for d in defs}
    for node in tree.body:
        start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", ())])
        d = by_line.get(start)
        if d is None:
            continue
        kind, name, status = d["kind"], d["name"], d["status"]
        if kind == "function" and status == "changed" and name in swapped:
            continue  # its object runs the new code already
        if kind == "class" and status == "changed" and isinstance(ns.get(name), type):
            scratch = {}
            _exec(node, ns, path, trig, scratch)
            new = scratch.get(name)
            if isinstance(new, type):
                _patch_class(ns[name], new, d.get("parts") or ())
            continue
        _exec(node, ns, path, trig)


def _exec(node, ns, path, trig, local=None):
    code = trig.compile_tree(ast.Module(body=[node], type_ignores=[]), path)
    if local is None:
        exec(code, ns)
    else:
        exec(code, ns, local)  # a class made aside, its methods' globals the module's


def _patch_class(old, new, parts):
    """The members of class new the edit changed (parts; "-name": removed)
    set on class old, which stays the class of its instances."""
    for p in parts:
        if p.startswith("-"):
            if p[1:] in old.__dict__:
                delattr(old, p[1:])
            continue
        if p in _SKIP or p not in new.__dict__:
            continue
        v = new.__dict__[p]
        ov = old.__dict__.get(p)
        if isinstance(v, types.FunctionType) and isinstance(ov, types.FunctionType) \
                and v.__code__.co_freevars == ov.__code__.co_freevars:
            # (in place: its __class__ cell, if any, already holds old)
            ov.__code__, ov.__defaults__, ov.__kwdefaults__ = v.__code__, v.__defaults__, v.__kwdefaults__
            continue
        setattr(old, p, _rebind(v, new, old))


def _rebind(v, new, old):
    """A method of new whose zero-argument super() / __class__ refers to
    new, made to refer to old."""
    wrap = None
    if isinstance(v, (staticmethod, classmethod)):
        wrap, v = type(v), v.__func__
    if isinstance(v, types.FunctionType) and "__class__" in v.__code__.co_freevars:
        cells = tuple(types.CellType(old) if n == "__class__" and c.cell_contents is new else c
                      for n, c in zip(v.__code__.co_freevars, v.__closure__))
        f = types.FunctionType(v.__code__, v.__globals__, v.__name__, v.__defaults__, cells)
        f.__kwdefaults__, f.__qualname__, f.__dict__ = v.__kwdefaults__, v.__qualname__, dict(v.__dict__)
        f.__module__, f.__doc__ = v.__module__, v.__doc__
        v = f
    return wrap(v) if wrap else v
