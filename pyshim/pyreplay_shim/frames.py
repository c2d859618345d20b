"""Raw access to CPython frames: fast locals, cells and the live value stack.

f_locals does not hold the value stack (the iterator of each enclosing
``for``, the ``__exit__`` of each enclosing ``with``) nor the cell objects
themselves, so both are read from the interpreter frame with ctypes.

Layouts (pointer-sized slots, see Include/internal/pycore_frame.h):
  3.11  _PyInterpreterFrame: f_func f_globals f_builtins f_locals f_code
        frame_obj previous prev_instr | int stacktop, bool is_entry, char owner
        | localsplus[]
  3.12  f_code previous f_funcobj f_globals f_builtins f_locals frame_obj
        prev_instr | int stacktop, u16 return_offset, char owner | localsplus[]
  3.13  f_executable previous f_funcobj f_globals f_builtins f_locals
        frame_obj instr_ptr | int stacktop, u16 return_offset, char owner
        | localsplus[]
  3.8-3.10  PyFrameObject holds f_localsplus[] itself (last member); the
        stack depth of a running frame is not stored, so it is derived
        from the bytecode (stack_depth below).
The layout is checked at start-up against a known frame (selfcheck); on a
mismatch stack capture is switched off and snapshots say so.
"""
import ctypes
import dis
import sys

V = sys.version_info[:2]
P = ctypes.sizeof(ctypes.c_void_p)


class _Null:
    """Marks an empty (NULL) slot of the value stack or an unbound local."""

    _inst = None

    def __new__(cls):
        if cls._inst is None:
            cls._inst = object.__new__(cls)
        return cls._inst

    def __reduce__(self):
        return (_Null, ())

    def __repr__(self):
        return "<NULL>"


NULL = _Null()

_c_void_p_at = ctypes.c_void_p.from_address
_c_int_at = ctypes.c_int.from_address
_py_object = ctypes.py_object


def _ptr(addr):
    return _c_void_p_at(addr).value


def _obj(addr):
    a = _c_void_p_at(addr).value
    if not a:
        return NULL
    return ctypes.cast(a, _py_object).value


if V >= (3, 11):
    _CODE_SLOT = 4 if V == (3, 11) else 0
    _STACKTOP = 8 * P
    _LOCALSPLUS = 9 * P
    _PREVIOUS = 6 * P if V == (3, 11) else 1 * P
    _FRAMEOBJ = 5 * P if V == (3, 11) else 6 * P
    _FUNC = 0 if V == (3, 11) else 2 * P

    def _iframe(frame):
        return _ptr(id(frame) + 3 * P)

    def _nlocalsplus(code):
        n = len(code.co_varnames) + len(code.co_freevars)
        n += sum(1 for c in code.co_cellvars if c not in code.co_varnames)
        return n

    def localsplus_names(code):
        return [code._varname_from_oparg(i) for i in range(_nlocalsplus(code))]

    def read(frame, with_stack=True):
        """(slots, stack, entry): slots maps name -> raw value (cells stay cells),
        stack is the list of live value-stack items or None when unknown,
        entry is True when the frame was called from C code. Pass
        with_stack=False for a frame that is no longer running (a traceback's):
        its stack slots may point to freed objects."""
        ip = _iframe(frame)
        code = frame.f_code
        names = localsplus_names(code)
        base = ip + _LOCALSPLUS
        slots = {}
        for i, name in enumerate(names):
            slots[name] = _obj(base + i * P)
        top = _c_int_at(ip + _STACKTOP).value
        stack = None
        static = False
        if not with_stack:
            pass
        elif top >= len(names):
            stack = [_obj(base + i * P) for i in range(len(names), top)]
        elif top == -1:
            # the frame is inside a call made through C code: its stack pointer
            # lives in the C stack, so the depth is derived from the bytecode
            depth = stack_depth(code, _call_start(code, instr_offset(code, frame.f_lasti)))
            if depth is not None:
                stack = [_obj(base + i * P) for i in range(len(names), len(names) + depth)]
                static = True
        return slots, stack, static

    def called_from_c(frame):
        back = frame.f_back
        if back is None:
            return False
        ip = _iframe(frame)
        if V == (3, 11):
            return bool(ctypes.c_bool.from_address(ip + 8 * P + 4).value)
        return _ptr(ip + _PREVIOUS) != _iframe(back)

    def selfcheck():
        def probe(a):
            for x in iter([a]):
                f = sys._getframe()
                ip = _iframe(f)
                if _ptr(ip + _CODE_SLOT * P) != id(f.f_code):
                    return "code pointer mismatch"
                if _ptr(ip + _FRAMEOBJ) != id(f):
                    return "frame object pointer mismatch"
                slots, stack, _ = read(f)
                if slots.get("a") != "A":
                    return "localsplus mismatch"
                if not stack or type(stack[0]).__name__ != "list_iterator":
                    return "value stack mismatch"
                return None
        return probe("A")

else:

    def _localsplus_off(frame):
        return type(frame).__basicsize__ - P

    def localsplus_names(code):
        return list(code.co_varnames) + list(code.co_cellvars) + list(code.co_freevars)

    def read(frame, with_stack=True):
        code = frame.f_code
        base = id(frame) + _localsplus_off(frame)
        names = localsplus_names(code)
        slots = {}
        for i, name in enumerate(names):
            slots[name] = _obj(base + i * P)
        stack = None
        # the depth is derived from the bytecode: only a running (or
        # suspended) frame's slots up to it are live; a finished frame's
        # stack slots point to objects that may already be freed
        depth = stack_depth(code, frame.f_lasti) if with_stack else None
        if depth is not None and frame.f_lasti >= 0 and dis.opname[code.co_code[frame.f_lasti]] == "YIELD_VALUE":
            # a suspended generator: the yielded value is no longer on the stack
            depth -= 1
        if depth is not None:
            vs = base + len(names) * P
            stack = [_obj(vs + i * P) for i in range(depth)]
        return slots, stack, True

    def called_from_c(frame):
        return False

    def selfcheck():
        # read the frame while it runs: once it has returned, its value
        # stack slots are stale and reading them corrupts memory
        def probe(a):
            b = [a]
            for x in iter(b):
                f = sys._getframe()
                slots, stack, _ = read(f)
                if slots.get("a") != "A" or slots.get("b") is not b:
                    return "f_localsplus offset mismatch"
                if not stack or type(stack[0]).__name__ != "list_iterator":
                    return "value stack mismatch"
                return None
        return probe("A")


if V < (3, 10):
    # PyThreadState (3.8, 3.9): prev next interp frame | int recursion_depth,
    # char overflowed. Checked against a known depth before any use.
    _OVERFLOWED = 4 * P + ctypes.sizeof(ctypes.c_int)

    def _tstate():
        f = ctypes.pythonapi.PyThreadState_Get
        f.restype = ctypes.c_void_p
        return f()

    def _overflow_layout_ok():
        def depth():
            return _c_int_at(_tstate() + 4 * P).value

        def nested():
            return depth()
        d = depth()
        return nested() == d + 1 and ctypes.c_char.from_address(_tstate() + _OVERFLOWED).value == b"\0"

    def recursion_depth():
        """The current thread's recursion depth counter (a ctypes int), or
        None on an unknown layout."""
        if not _overflow_ok:
            _overflow_ok.append(_overflow_layout_ok())
        if not _overflow_ok[0]:
            return None
        return ctypes.c_int.from_address(_tstate() + 4 * P)

    def recursion_limit():
        """The interpreter's recursion limit as a ctypes int (read without
        a call), or None."""
        try:
            return ctypes.c_int.in_dll(ctypes.pythonapi, "_Py_CheckRecursionLimit")
        except (ValueError, AttributeError):
            return None

    _overflow_ok = []

    def overflow_flag():
        """3.8 keeps a flag set after a RecursionError until the stack is
        50 frames below the limit; while it is set, the next overflow is a
        fatal error. The shim clears it (as the last thing it does before
        returning to the program) after catching a RecursionError of its own,
        so that the program's own overflow behaves as without pyreplay.
        Returns the current thread's flag, or None on an unknown layout."""
        if not _overflow_ok:
            _overflow_ok.append(_overflow_layout_ok())
        if not _overflow_ok[0]:
            return None
        return ctypes.c_char.from_address(_tstate() + _OVERFLOWED)
else:
    def overflow_flag():
        return None

    def recursion_depth():
        return None

    def recursion_limit():
        return None


_JUMPS_NO_FALLTHROUGH = {"JUMP_ABSOLUTE", "JUMP_FORWARD", "RETURN_VALUE", "RAISE_VARARGS", "RERAISE",
                         "JUMP_BACKWARD", "JUMP_BACKWARD_NO_INTERRUPT", "JUMP", "JUMP_NO_INTERRUPT",
                         "RETURN_CONST"}
_depth_cache = {}


def stack_depth(code, lasti):
    """Value-stack depth before the instruction at ``lasti`` (3.8-3.10)."""
    key = (code, lasti)
    if key in _depth_cache:
        return _depth_cache[key]
    table = _depth_cache.get(code)
    if table is None:
        table = _depth_table(code)
        _depth_cache[code] = table
    return table.get(lasti)


def _depth_table(code):
    instrs = list(dis.get_instructions(code))
    # 3.8 enters finally and with-cleanup code with 1 or 6 items on the stack
    # depending on how it got there; dis models the larger, and reading slots
    # that are not live could touch freed objects: those regions get no depth
    amb = _finally_regions_38(instrs) if V == (3, 8) else set()
    by_off = {ins.offset: i for i, ins in enumerate(instrs)}
    depth = {}
    work = [(0, 0)]
    if V >= (3, 11):
        for ent in dis.Bytecode(code).exception_entries:
            work.append((ent.target, ent.depth + (1 if ent.lasti else 0) + 1))
    while work:
        off, d = work.pop()
        while True:
            if off in depth:
                if depth[off] != d and off not in amb:
                    # two paths reach this instruction with different depths
                    # (3.8's finally blocks): the live depth is unknowable, and
                    # reading a guess could touch freed objects
                    return {}
                break
            depth[off] = d
            i = by_off.get(off)
            if i is None:
                break
            ins = instrs[i]
            op = ins.opcode
            arg = ins.arg if op >= dis.HAVE_ARGUMENT else None
            if ins.opname == "CALL_FINALLY":
                pass  # its finally region is walked from its other entries
            elif op in dis.hasjrel or op in dis.hasjabs:
                try:
                    jd = d + dis.stack_effect(op, arg, jump=True)
                except (ValueError, TypeError):
                    jd = None
                if jd is not None:
                    work.append((ins.argval, jd))
            if ins.opname in _JUMPS_NO_FALLTHROUGH:
                break
            try:
                d = d + dis.stack_effect(op, arg, jump=False)
            except (ValueError, TypeError):
                break
            if i + 1 >= len(instrs):
                break
            off = instrs[i + 1].offset
    for off in amb:
        depth.pop(off, None)
    return depth


def _finally_regions_38(instrs):
    """Offsets of 3.8's finally and with-cleanup code: from each finally
    entry (the instruction after BEGIN_FINALLY, or a CALL_FINALLY target) to
    its END_FINALLY, nested blocks included."""
    by_off = {ins.offset: i for i, ins in enumerate(instrs)}
    entries = set()
    for i, ins in enumerate(instrs):
        if ins.opname == "BEGIN_FINALLY" and i + 1 < len(instrs):
            entries.add(i + 1)
        elif ins.opname == "CALL_FINALLY" and ins.argval in by_off:
            entries.add(by_off[ins.argval])
    out = set()
    for i in entries:
        nest = 0
        for ins in instrs[i:]:
            out.add(ins.offset)
            if ins.opname in ("SETUP_FINALLY", "SETUP_WITH", "SETUP_ASYNC_WITH"):
                nest += 1
            elif ins.opname == "END_FINALLY":
                if nest == 0:
                    break
                nest -= 1
    return out


def instr_offset(code, lasti):
    """Offset of the instruction that owns ``lasti`` (3.11+ points into inline caches)."""
    if lasti is None or lasti < 0:
        return lasti
    co = code.co_code
    while lasti > 0 and dis.opname[co[lasti]] == "CACHE":
        lasti -= 2
    return lasti


def _call_start(code, off):
    """3.11 splits a call into PRECALL + CALL and dis models PRECALL as
    popping the arguments; the depth that still holds them is before PRECALL."""
    if V == (3, 11) and off and dis.opname[code.co_code[off]] == "CALL":
        j = instr_offset(code, off - 2)
        if j is not None and j >= 0 and dis.opname[code.co_code[j]] == "PRECALL":
            return j
    return off


def opname_at(code, lasti):
    lasti = instr_offset(code, lasti)
    if lasti is None or lasti < 0:
        return ""
    try:
        return dis.opname[code.co_code[lasti]]
    except IndexError:
        return ""


_line_starts = {}


def line_at(code, lasti):
    """The line of the instruction at byte offset lasti of code, from the
    code's line table: what CPython's tracebacks show for it. A frame's
    f_lineno (and a traceback entry's tb_lineno) is a stored field while
    the frame has a trace function, and goes stale when line events stop
    reaching it (the global trace function removed, the frame's left):
    a caller suspended in a call is at its call's line, found this way."""
    starts = _line_starts.get(code)
    if starts is None:
        starts = _line_starts[code] = list(dis.findlinestarts(code))
    line = None
    for off, ln in starts:
        if off > lasti:
            break
        if ln is not None:
            line = ln
    return line


_pos_cache = {}


def position_at(code, lasti):
    """(line, endline, col, endcol) of the instruction at lasti, 3.11+."""
    if V < (3, 11) or lasti is None or lasti < 0:
        return None
    # keyed by identity (hashing a code object hashes all of it); the entry
    # keeps the code object, so that its id is not reused meanwhile
    key = (id(code), lasti)
    ent = _pos_cache.get(key)
    if ent is not None and ent[0] is code:
        return ent[1]
    lasti = instr_offset(code, lasti)
    pos = None
    try:
        for i, p in enumerate(code.co_positions()):
            if i == lasti // 2:
                pos = p
                break
    except Exception:
        pos = None
    if len(_pos_cache) > 100000:
        _pos_cache.clear()
    _pos_cache[key] = (code, pos)
    return pos


_primary_cache = {}


def primary_offset(code, line):
    """Lowest offset that starts ``line``: the statement's own start."""
    t = _primary_cache.get(code)
    if t is None:
        t = {}
        for off, ln in dis.findlinestarts(code):
            if ln is not None and (ln not in t or off < t[ln]):
                t[ln] = off
        _primary_cache[code] = t
    return t.get(line)


CALL_OPS_310 = {"CALL_FUNCTION": 1, "CALL_METHOD": 2, "CALL_FUNCTION_KW": 2}


def call_items(code, lasti):
    """Number of value-stack items that belong to the call in progress when
    the stack depth was derived from the bytecode (the call has not yet
    consumed its callable and arguments)."""
    lasti = instr_offset(code, lasti)
    op = opname_at(code, lasti)
    if V >= (3, 11):
        arg = _oparg(code, lasti)
        if op in ("CALL", "PRECALL"):
            return arg + 2
        if op == "CALL_KW":
            return arg + 3
        if op == "CALL_FUNCTION_EX":
            return 3 + (arg & 1)
        return 0
    return call_items_310(code, lasti)


def _oparg(code, lasti):
    co = code.co_code
    arg = co[lasti + 1]
    j = lasti - 2
    shift = 8
    while j >= 0 and dis.opname[co[j]] == "EXTENDED_ARG":
        arg |= co[j + 1] << shift
        shift += 8
        j -= 2
    return arg


def callable_item(code, lasti, items):
    """The object being called, from the call's own stack items."""
    if not items:
        return NULL
    op = opname_at(code, lasti)
    if V >= (3, 13):
        return items[0]
    if V >= (3, 11) or op == "CALL_METHOD":
        if len(items) >= 2:
            return items[1] if items[0] is NULL else items[0]
    return items[0]


def call_items_310(code, lasti):
    """Number of value-stack items that belong to the call in progress (<=3.10)."""
    op = opname_at(code, lasti)
    if op in CALL_OPS_310:
        arg = code.co_code[lasti + 1]
        # EXTENDED_ARG prefixes
        j = lasti - 2
        shift = 8
        while j >= 0 and dis.opname[code.co_code[j]] == "EXTENDED_ARG":
            arg |= code.co_code[j + 1] << shift
            shift += 8
            j -= 2
        return arg + CALL_OPS_310[op]
    if op == "CALL_FUNCTION_EX":
        return 2 + (code.co_code[lasti + 1] & 1)
    return 0


_ordinal_cache = {}


def call_ordinal(code, lasti, line):
    """How many calls of ``line`` ran before the one at lasti (<=3.10), counted
    from where the interpreter last entered that line."""
    key = (id(code), lasti, line)
    ent = _ordinal_cache.get(key)
    if ent is None or ent[0] is not code:
        if len(_ordinal_cache) > 100000:
            _ordinal_cache.clear()
        ent = _ordinal_cache[key] = (code, _call_ordinal(code, lasti, line))
    return ent[1]


def _call_ordinal(code, lasti, line):
    start = 0
    for off, ln in dis.findlinestarts(code):
        if off > lasti:
            break
        if ln == line:
            start = off
    n = 0
    for ins in dis.get_instructions(code):
        if start <= ins.offset < lasti and ins.opname in CALL_OPS_310 or \
                (start <= ins.offset < lasti and ins.opname == "CALL_FUNCTION_EX"):
            n += 1
    return n
