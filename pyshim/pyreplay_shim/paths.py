"""Where code comes from: the program's own files, the libraries', the
shim's; absolute paths and qualified names of code objects (3.8-3.10 have
no co_qualname); source bytes decoded as CPython decodes them. A leaf."""
import io
import os
import sys
import sysconfig

SHIM_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_LIB_DIRS = []


def _lib_dirs():
    if not _LIB_DIRS:
        seen = set()
        paths = sysconfig.get_paths()
        for key in ("stdlib", "platstdlib", "purelib", "platlib"):
            try:
                p = paths[key]
            except KeyError:
                continue
            for q in (p, os.path.realpath(p)):
                if q and q not in seen:
                    seen.add(q)
                    _LIB_DIRS.append(q.rstrip(os.sep) + os.sep)
        for p in sys.path:
            if p.endswith(("site-packages", "dist-packages")):
                _LIB_DIRS.append(p.rstrip(os.sep) + os.sep)
        _LIB_DIRS.append(SHIM_DIR + os.sep)
    return _LIB_DIRS


_user_cache = {}
START_CWD = os.getcwd()


_abs_cache = {}


def abs_file(filename):
    """A code object's file as an absolute path. Before 3.9 the main script's
    co_filename is the path as given, relative to the directory the program
    started in, whatever os.chdir() it did since."""
    if not filename or filename.startswith("<"):
        return filename
    p = _abs_cache.get(filename)
    if p is None:
        p = _abs_cache[filename] = os.path.normpath(os.path.join(START_CWD, filename))
    return p


_qual_tables = {}


def qualname(code):
    """The qualified name of a code object's function. co_qualname exists
    from 3.11; before, it is found in the file's syntax tree by the function's
    first line and name (co_name when not found: lambdas, comprehensions)."""
    q = getattr(code, "co_qualname", None)
    if q is not None:
        return q
    fn = code.co_filename
    table = _qual_tables.get(fn)
    if table is None:
        table = {}
        try:
            import ast
            with open(abs_file(fn), "rb") as f:
                tree = ast.parse(f.read())
        except Exception:  # noqa: BLE001 - no source, no qualnames
            tree = None

        def walk(node, prefix):
            for st in ast.iter_child_nodes(node):
                if isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    first = min([d.lineno for d in st.decorator_list] + [st.lineno])
                    table[(first, st.name)] = prefix + st.name
                    walk(st, prefix + st.name + ".<locals>.")
                elif isinstance(st, ast.ClassDef):
                    walk(st, prefix + st.name + ".")
                elif isinstance(st, (ast.stmt, ast.excepthandler)) or type(st).__name__ == "match_case":
                    walk(st, prefix)
        if tree is not None:
            walk(tree, "")
        _qual_tables[fn] = table
    return table.get((code.co_firstlineno, code.co_name), code.co_name)


def decode_source(data):
    """Source bytes as the text CPython compiles: the PEP 263 coding cookie
    or BOM honoured (tokenize's own detection), so that Go sees the same
    characters and the same UTF-8 columns as the interpreter's positions."""
    import tokenize
    try:
        enc, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return data.decode(enc)
    except (SyntaxError, LookupError, UnicodeDecodeError):
        return data.decode("utf-8", "replace")


def is_user_file(filename):
    r = _user_cache.get(filename)
    if r is None:
        if not filename or filename.startswith("<"):
            r = False
        else:
            ap = abs_file(filename)
            r = not any(ap.startswith(d) for d in _lib_dirs()) and os.path.isfile(ap)
        _user_cache[filename] = r
    return r


def _has_source(filename):
    return bool(filename) and not filename.startswith("<") and not is_shim_file(filename) \
        and os.path.isfile(filename)


def is_shim_file(filename):
    return filename.startswith(SHIM_DIR + os.sep)


_module_cache = {}  # name -> (id of its module, whether it is the program's)


def user_modules():
    """The names of the program's modules in sys.modules, __main__ first.
    Each module's answer is kept while its name holds the same module (by
    id: the cache must not keep a module alive): an anchor asks every few
    ms, and reading __file__ of a module without one costs an
    AttributeError, or a call of the module's __getattr__."""
    out = ["__main__"] if "__main__" in sys.modules else []
    cache = _module_cache
    for name, m in list(sys.modules.items()):
        if name == "__main__" or m is None:
            continue
        c = cache.get(name)
        if c is None or c[0] != id(m):
            f = getattr(m, "__file__", None)
            c = cache[name] = (id(m), isinstance(f, str) and is_user_file(f))
        if c[1]:
            out.append(name)
    return out
