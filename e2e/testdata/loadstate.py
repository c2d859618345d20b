"""Test helper: load a snapshot's pickled state the way a resume does and
print what it holds as JSON: python loadstate.py SHIMDIR DB SNAP-NUMBER.
Iterators are listed by their remaining items (consuming the loaded copy),
cells and objects carry ids so the tests can check sharing."""
import io
import json
import sqlite3
import sys
import types


def describe(v, seen_cells):
    t = type(v)
    d = {"type": t.__name__}
    if t.__name__ == "Placeholder":  # touching it raises, by design
        d["repr"] = repr(v)
        return d
    if t.__name__ == "cell":
        try:
            d["contents"] = repr(v.cell_contents)
        except ValueError:
            d["contents"] = "<empty>"
        d["id"] = id(v)
        return d
    if t.__name__.endswith("iterator") or t.__name__ in ("enumerate", "zip", "map", "reversed", "filter"):
        try:
            d["rest"] = repr(list(v))
        except Exception as e:  # noqa: BLE001
            d["rest_error"] = repr(e)
        return d
    if isinstance(v, types.MethodType):
        d["method"] = v.__func__.__qualname__
        d["self"] = repr(v.__self__)
        d["self_attrs"] = repr(sorted(vars(v.__self__).items()))
        return d
    if isinstance(v, types.FunctionType):
        d["qualname"] = v.__qualname__
        d["closure"] = [id(c) for c in (v.__closure__ or ())]
        d["id"] = id(v)
        return d
    d["repr"] = repr(v)[:300]
    d["id"] = id(v)
    if isinstance(v, dict):
        d["value_ids"] = {str(k): id(x) for k, x in v.items()}
    elif hasattr(v, "__dict__") and not isinstance(v, type) and isinstance(getattr(v, "__dict__", None), dict):
        d["attr_ids"] = {k: id(x) for k, x in vars(v).items()}
    if isinstance(v, BaseException):
        d["args"] = repr(v.args)
    return d


def main():
    shim, db, snap = sys.argv[1], sys.argv[2], int(sys.argv[3])
    sys.path.insert(0, shim)
    # the program's __main__ globals load into a fresh module, not this one
    sys.modules["__main__"] = types.ModuleType("__main__")
    conn = sqlite3.connect(db)
    row = conn.execute("SELECT state FROM snapshots WHERE id=?", (snap,)).fetchone()
    row = [row[0] + b"".join(c for (c,) in conn.execute("SELECT data FROM state_chunks WHERE snap=? ORDER BY seq", (snap,)))]
    from pyreplay_shim import state
    up = state.StateUnpickler(io.BytesIO(row[0]))
    manifest = up.load()
    out = {"locals": {}, "stacks": {}, "extras": {}, "globals": {}}
    cells = {}
    for entry in manifest:
        v = up.load()
        kind = entry[0]
        if kind == "l":
            out["locals"].setdefault(str(entry[1]), {})[entry[2]] = describe(v, cells)
        elif kind == "s":
            st = out["stacks"].setdefault(str(entry[1]), [])
            while len(st) <= entry[2]:
                st.append(None)
            st[entry[2]] = describe(v, cells)
        elif kind == "x":
            out["extras"][entry[1]] = describe(v, cells)
        elif kind == "g":  # a module's namespace (filled by its items, or by "G" entries)
            out["globals"].setdefault(entry[1], {}).update(
                {k: describe(x, cells) for k, x in v.items() if not k.startswith("__")})
        elif kind == "G":  # one global of a module
            if not entry[2].startswith("__"):
                out["globals"].setdefault(entry[1], {})[entry[2]] = describe(v, cells)
    sys.stdout.write(json.dumps(out))


main()
