"""A re-execution's events written to OUT (linehistory.py's format): the
code table, the views the kept events use, numbered in the order they are
first used (a view made for an event that was not kept is not written),
then the events, one JSON object per line."""
import json

from .pastvalues import _SMALL, _UNKNOWN, _Made


def write_events(out, codes, kept, views, key_of, hides, unknown, candidate):
    """codes: (qualified name, file, K) each; kept: the events (linehistory
    record()'s tuples), their values replaced here by their views' numbers;
    views: a mutable value's view's items -> its _Made; key_of(name, value):
    a value's view's items; hides(name): whether the view redacts it;
    unknown: [(event, what, where)] of the first outside input not
    recorded, or []; candidate(event): whether it is marked "c"."""
    table = {}  # a view's items -> its number in OUT
    rows = []
    by_index = {m.i: key for key, m in views.items()}
    renumber = {}

    def number(key):
        n = table.get(key)
        if n is None:
            n = table[key] = len(table)
            rows.append(key)
        return n

    small = {}  # a small int -> its view's number (most locals)
    for e in kept:
        vals = e[6]
        for k, v in vals.items():
            if type(v) is int and -_SMALL < v < _SMALL and not hides(k):
                n = small.get(v)
                if n is None:
                    n = small[v] = number(key_of(k, v))
                vals[k] = n
            elif v is _UNKNOWN:
                vals[k] = number((("type", ""), ("repr", "<unknown: may come from %s at %s, which was not recorded>"
                                                  % unknown[0][1:]), ("unknown", True)))
            elif type(v) is _Made:
                n = renumber.get(v.i)
                if n is None:
                    n = renumber[v.i] = number(by_index[v.i])
                vals[k] = n
            else:
                vals[k] = number(key_of(k, v))
    dumps = json.dumps
    # (one encoder: json.dumps with default= makes a new one per call)
    encode = json.JSONEncoder(default=str).encode
    for (name, fn, k) in codes:
        out.write(dumps({"code": k, "f": name, "file": fn}) + "\n")
    for n, key in enumerate(rows):
        row = {"view": n}
        row.update(key)
        out.write(encode(row) + "\n")
    js = {}  # a module's or a local's name -> its JSON (names repeat)
    for e in kept:
        m = js.get(e[5])
        if m is None:
            m = js[e[5]] = dumps(e[5])
        vj = []
        for k, n in e[6].items():
            kj = js.get(k)
            if kj is None:
                kj = js[k] = dumps(k)  # (a class body's or exec's locals need not be identifiers)
            vj.append("%s:%d" % (kj, n))
        vj = "{" + ",".join(vj) + "}"
        out.write('{"n":%d,"h":%d,"s":%d,"p":%d,"k":%d,"l":%d,"m":%s,"v":%s%s%s%s%s%s}\n' % (
            e[0], e[12], e[1], e[2], e[3], e[4], m, vj,
            ',"c":1' if candidate(e) else "",
            ',"x":1' if e[8] else "", ',"w":1' if e[11] else "", ',"b":' + dumps(e[9]) if e[9] is not None else "",
            ',"r":' + dumps(e[13]) if e[13] else ""))
