"""Checks linehooks.one_line against CPython's own line events: for every
function of the corpus below, each call traced with sys.settrace; a code
one_line names a line must report exactly one line event per call, at
that line, whether the call returns or raises. Prints one line per
function (OK / BAD ...) and exits 1 on any disagreement, or if one_line
recognised none of the one-line functions (a check that cannot fail
would prove nothing)."""
import functools
import operator
import sys

from pyreplay_shim.linehooks import one_line


def square(x): return x * x  # noqa: E704
def parity(i): return "odd" if i % 2 else "even"  # noqa: E704
def ratio(i): return 10 // (i % 3)  # noqa: E704 - raises for i % 3 == 0
def label(name, n=2): return "%s×%d" % (name, n)  # noqa: E704
def nested(i): return square(i) + square(i + 1)  # noqa: E704
def guard(d, k): return d[k] if k in d and d[k] else None  # noqa: E704
def chain(a, b): return a < b < 10 and not a == b or b is None  # noqa: E704
def closure(i):
    return lambda y: y + i


by_len = lambda s: (len(s), s)  # noqa: E731
add = functools.partial(operator.add, 1)


class Point:
    def __init__(self, x, y):
        self.x, self.y = x, y

    @property
    def norm(self): return abs(self.x) + abs(self.y)  # noqa: E704

    def __repr__(self): return "Point(%r, %r)" % (self.x, self.y)  # noqa: E704


def with_loop(n): return [i for i in range(n)]  # noqa: E704 (a comprehension: its own code loops)
def two_lines(i):
    j = i + 1
    return j * 2


def spin(n):
    while n > 0: n -= 1  # noqa: E701 - one line, a backward jump


def loops(n):
    t = 0
    for i in range(n):
        t += i
    return t


def one_line_loop(n):
    while n > 0: n -= 1  # noqa: E701
    return n


def tries(i):
    try:
        return 1 // i
    except ZeroDivisionError:
        return 0


def with_file(path):
    with open(path) as f: return f.readline()  # noqa: E701


def gen(n):
    yield from range(n)


def multi_line_call(a,
                    b):
    return operator.add(a,
                        b)


CALLS = [
    (square, [(i,) for i in range(5)]),
    (parity, [(i,) for i in range(5)]),
    (ratio, [(i,) for i in range(6)]),
    (label, [("façade",), ("naïve", 3)]),
    (nested, [(i,) for i in range(3)]),
    (guard, [({"a": 1}, "a"), ({}, "b"), ({"c": 0}, "c")]),
    (chain, [(1, 2), (3, 3), (20, None)]),
    (closure(3), [(1,), (2,)]),
    (by_len, [("ab",), ("é",)]),
    (Point.norm.fget, [(Point(1, -2),)]),
    (Point.__repr__, [(Point(3, 4),)]),
    (with_loop, [(3,)]),
    (two_lines, [(1,)]),
    (spin, [(3,)]),
    (loops, [(4,)]),
    (one_line_loop, [(3,)]),
    (tries, [(0,), (2,)]),
    (with_file, [(__file__,)]),
    (lambda n: list(gen(n)), [(3,)]),
    (multi_line_call, [(1, 2)]),
]
EXPECT_ONE = {"square", "parity", "ratio", "label", "nested", "guard", "chain",
              "<lambda>", "norm", "__repr__"}


def events_of(fn, args):
    """The line events of each frame of fn's code, by call."""
    code = fn.__code__
    calls = []

    def local(frame, event, arg):
        if event == "line" and frame.f_code is code:
            calls[-1].append(frame.f_lineno)
        return local

    def glob(frame, event, arg):
        if frame.f_code is code:
            calls.append([])
            return local
        return None
    sys.settrace(glob)
    try:
        fn(*args)
    except Exception:  # noqa: BLE001 - a raising call is part of the check
        pass
    finally:
        sys.settrace(None)
    return calls


bad = 0
recognised = set()
for fn, arglist in CALLS:
    code = fn.__code__
    line = one_line(code)
    if line is not None:
        recognised.add(code.co_name)
    for args in arglist:
        for ev in events_of(fn, args):
            if line is not None and ev != [line]:
                bad += 1
                print("BAD %s%r: one_line says %d, settrace reported %r" % (code.co_name, args, line, ev))
    print("OK %s: %s" % (code.co_name, line))
missed = EXPECT_ONE - recognised
if missed:
    bad += 1
    print("BAD one_line recognised none of %s" % sorted(missed))
sys.exit(1 if bad else 0)
