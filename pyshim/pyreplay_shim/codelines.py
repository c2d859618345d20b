"""The lines of a file on which CPython reports line events: those of its
code objects' line tables (co_lines() from 3.10, co_lnotab before), every
nested code object included (functions, classes, lambdas, comprehensions,
generator expressions). They are the lines sys.settrace and pdb stop at,
and the only lines a breakpoint accepts. Line 0 (3.11+: the RESUME of a
module) is not a source line.

Also run on its own by Go (launch.RunLines), with the interpreter that will
run the program: ``python -I -S codelines.py FILE`` prints
{"lines": [...]} or {"error": "..."} when the file does not compile.
Standard library only, no package-relative imports.
"""
import sys
import types

V = sys.version_info[:2]


def own_lines(code):
    """The lines of ``code``'s own instructions, nested code objects' not
    included."""
    if V >= (3, 10):
        return {ln for _, _, ln in code.co_lines() if ln is not None and ln > 0}
    import dis
    return {ln for _, ln in dis.findlinestarts(code) if ln > 0}


def walk(code):
    """``code`` and every code object nested in it."""
    stack = [code]
    while stack:
        c = stack.pop()
        yield c
        stack.extend(k for k in c.co_consts if isinstance(k, types.CodeType))


def file_lines(code):
    out = set()
    for c in walk(code):
        out |= own_lines(c)
    return out


def main(path):
    import json
    try:
        with open(path, "rb") as f:
            src = f.read()
        code = compile(src, path, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as e:
        print(json.dumps({"error": "%s: %s" % (type(e).__name__, e)}))
        return
    except OSError as e:
        print(json.dumps({"error": str(e), "unreadable": True}))
        return
    print(json.dumps({"lines": sorted(file_lines(code))}))


if __name__ == "__main__":
    main(sys.argv[1])
