"""Line history by re-execution (time travel by line): a resumed run that
re-executes the program from a snapshot (the anchor) up to a later stop of
the same run, with its output going nowhere, and writes the line events of
the program's code on the way with the locals of their frame (views).

The program is deterministic from an exact resume on, so the re-executed
events are the original's. Config (resume.history):

    {"out": PATH,
     "until": {"stack": [[file, line], ...], "stdout": N, "stderr": N,
               "locals": [{name: repr}, ...], "last": bool} or {"event": N},
     "limit": N, "fork_every": N, "no_trail": bool, "snapshot": bool, "done": FIFO,
     "scope": {"codes": [[file, name], ...],
               "lines": [[file, line, condition or ""], ...],
               "stop_only": [file, name, line], "all": bool,
               "from_hit": bool}}

The stop is the first line event where the program's frames (file, line),
the output offsets and the frames' locals' reprs are those of "until":
that event is the stop's own, and the run ends there. With "last" (an
exception stop: the program ends there) the run goes on to its end, every
event with that stack and output is marked "c", and the last is the stop's
(none is marked when its locals are not the stop's: another run).
With "event" the run ends at the line event numbered N (the anchor's own is
0; each line event of the scope's code counts), and with "snapshot" it
takes a recorded snapshot there instead of writing events.

"limit": the events kept, the last N (100,000 by default), plus each live
frame's last one before them. With "fork_every" the run records its
first 1,000 events (forkpoints.FIRST_CHECKPOINT); past them it only counts the line
events (a test and an increment each), with a forked copy of itself
waiting there and every N events after (forkpoints.Checkpoints); at its end the copy
nearest before the last "limit" events counts on up to them and records
them, starting with each live frame's state then ("w": 1) (a shorter
run: the copy at the first checkpoint records from there): whatever the
stretch's length, at most "limit" and 1,000 events are recorded in full.
A run with one thread that shares no file with a copy makes one copy
instead, that trails it as it counts (follow.py).
With the scope's "from_hit" (a Reverse Continue's window) that copy
records from HIT_MARGIN events before the last hit of the scope's lines
(their conditions holding) when it is among the last "limit", keeping
at least the last MIN_TAIL.
"scope" (absent, or with "all": every code of the program): only the codes it
names (the stop's frames') and the codes holding its lines (breakpoints')
report line events, and "stop_only"'s code only where it is the stop (the
stop's top frame's code, traced to recognise the stop: its other events
are not events of the history, not even counted); a frame of any other code appears only as the caller
of a traced one, with an event made at that call ("x": 1): its line and
values then, exact while the callee runs. The rest of the program runs
untraced (3.12+: not even its calls; before, each call costs a test). A
breakpoint's condition is evaluated at each event of its line, in the
frame as it is then (as a live stop would), an error counting as false.

OUT gets one JSON object per line (lineout.py says which).

What the program reads from outside comes from the recording (inputs.py);
from the first value that was not (datetime's clocks, a file changed
after the anchor: sandbox.py), a value that changed since is shown as
unknown, except the stop frame's that stay as they are at the stop where
they are the recording's (_mark_unknown), and no snapshot is made.

A line event costs what making its mutable values' views costs: an
immutable value (int, str, float...) is kept as it is and gets its view
only if its event is kept; identical views are written once.
"""
import json
import os
import sys
import threading

from . import codelines as L
from .forkpoints import watch_hooks
from .follow import checkpoints
from .linehooks import GENERATOR_FLAGS, _bump, _monitor, _settrace, _yielding, one_line, park, precounter
from . import inputs
from . import paths
from .output import output_bytes
from .frames import line_at
from .state import _safe_repr
from .lineout import said_done, snapshot_here, write_events
from .pastvalues import _SMALL, _Made, _literals, _mark_unknown, _resume_key
from .versions import MONITORING
from .view import redacted, view

# values whose view cannot change while they stay the same object
_IMMUTABLE = frozenset((int, float, complex, str, bytes, bool, type(None)))
# from_hit: the events a Reverse Continue's window keeps before the last
# breakpoint hit (a few Step Backs from it), and at least, up to the stop
HIT_MARGIN = 100
MIN_TAIL = 150


def install(spec, trig, rec):
    """Before the state loads (resume.run): what must be in place then (the
    sandbox, the recorded inputs, the at-fork watch), and the tracing
    (_run): now, or, with "park" (a FIFO), once the program has arrived and
    its spec comes (linehooks.park)."""
    rec.history_run = True
    watch_hooks()
    inputs.replay(trig)
    # nothing the re-execution does reaches outside (sandbox.py); its
    # private files stay until at_exit is over (registered after: run
    # before), for the copy that records the last events reads them too
    from . import sandbox
    sandbox.install(trig.cfg.get("scratch"))
    if spec.get("park"):
        park(spec["park"], trig, rec, _run)
    else:
        _run(spec, trig, rec)


def _run(spec, trig, rec, arrived=None, started=None):
    """The tracing for spec; a parked run's: arrived, the frame it arrived
    in, started, the codes that started before (linehooks.park)."""
    import collections
    until = spec.get("until") or {}
    want_stack = [tuple(x) for x in until.get("stack") or []]
    want_out = (until.get("stdout"), until.get("stderr"))
    want_locals = until.get("locals") or []
    last = until.get("last")  # an exception stop: the program ends there
    upto = until.get("event")  # or: the run ends at line event number `upto`
    snap = spec.get("snapshot")  # with upto: a recorded snapshot there, no events
    counting = spec.get("count")  # no events: the scope lines' hits up to the end
    import _io  # (the sandbox's open is on: OUT is pyreplay's)
    out = _io.open(spec["out"], "w") if not snap else None

    # the events nearest the stop are the ones stepping back needs: the
    # last `keep`, plus each live frame's last event before them (its
    # line and locals in the stack of an earlier event)
    keep = spec.get("limit") or 100000
    ring = collections.deque(maxlen=keep)
    last_of = {}  # frame serial -> its last event
    serial = {}  # id(frame) -> (frame, serial, parent serial)
    count = [0, 0, 0]  # line events, serials given, events made (any kind)
    # co_filename -> [its line events so far, by line]: an event's "h",
    # the same in every re-execution from the anchor that traces its code
    # (a list: a line event's count is one indexed add; _bump grows it)
    file_hits = {}
    real = {}
    done = []
    unknown = []  # the first outside input not recorded (outside, below)
    # whether an exception stop's candidate has the recording's locals
    # (else, but for an outside input not recorded, which the values' marks
    # say, the run is not the original: it has no stop): the latest
    # candidate's at the run's end (finish: an uncaught exception's stop
    # read them after the exception unwound its frames, a finally block or
    # an event loop closed on the way, as asyncio.run's), else the latest
    # candidate that had them there (a raised exception's, which the
    # program caught and went on: its later candidates are not the stop);
    # last_cand: the latest candidate's frames; matched_at: the event of
    # the latest that had them there (-1: none); c_upto: the candidates
    # marked are those up to it (None: all)
    stop_ok = [True]
    last_cand = [None]
    matched_at = [-1]
    c_upto = [None]
    verified = {}  # a stop's candidate event -> its locals that are the recording's
    # fast: only counted. A snapshot's or a count's run only counts; a
    # window's run counts from its first checkpoint on once a forked copy
    # waits or trails there (follow.py), and the full events come from a copy
    fast = [bool(snap) or bool(counting)]
    # whether 3.12+'s LINE callback is fast_line (counting_only)
    fast_cb = [False]

    def bound(n):  # at event n, the first one a copy may record from, whatever comes next
        b = max(n - keep, 0)
        return max(b, min(last_hit[0] - HIT_MARGIN, n - MIN_TAIL)) if from_hit else b
    # (from_hit: at most MIN_TAIL events are recorded in full from the anchor on)
    cps = checkpoints(spec, keep, MIN_TAIL if (spec.get("scope") or {}).get("from_hit") else None, bound, rec.db_path) \
        if not snap and not counting else None
    # a resumed copy counting on to the event it records from (None: not one)
    rec_from = [None]

    def attention(after):
        """The next line event number after `after` where line() has more
        to do than count: the run's end (upto), a checkpoint, a copy's
        first recorded event; -1 for none."""
        c = [x for x in (upto, rec_from[0]) if x is not None and x > after]
        if cps is not None and cps.every:
            c.append(cps.next_due(after))
        return min(c) if c else -1
    attn = [attention(-1)]
    tally = {}  # counting: "file:line:condition" -> its hits

    def user(fn):
        r = real.get(fn)
        if r is None:
            r = real[fn] = (not fn.startswith("<") and paths.is_user_file(fn))
        return r

    scope = spec.get("scope")
    scope_codes = {(f, n) for f, n in (scope or {}).get("codes") or []}
    stop_only = (scope or {}).get("stop_only")
    if stop_only:
        stop_only, only_line = (stop_only[0], stop_only[1]), stop_only[2]
        scope_codes.add(stop_only)
    # id(code) -> (code, its one line that reports events): stop_only's
    # code (by identity: hashing a code object hashes all of it, at every
    # line event)
    only = {}
    scope_lines = {}  # file -> its breakpoints' lines
    # (file, line) -> [(condition or "", its code: None without one, False
    # when it does not compile)]: the breakpoints'
    bp_lines = {}
    for f, n, *c in (scope or {}).get("lines") or []:
        scope_lines.setdefault(f, set()).add(n)
        cond = c[0] if c else ""
        code = None
        if cond:
            try:
                code = compile(cond, "<condition>", "eval")
            except SyntaxError:
                code = False
        bp_lines.setdefault((f, n), []).append((cond, code))

    # "from_hit" (a Reverse Continue's window): the copy that records the
    # last events begins a few before the last hit of the breakpoints in
    # the last `keep` (last_hit: its number), not `keep` before the end
    from_hit = (scope or {}).get("from_hit")
    last_hit = [-1]
    # id(code) -> what a line event of a traced code needs, looked up once
    # (by id: hashing a code object hashes all of it): (code, its file's
    # file_hits, its breakpoint lines -> True (one has no condition) or
    # their compiled conditions, stop_only's one line or None, its special
    # lines, its one line if each call reports one line event there
    # (3.8-3.11; else None) (code_rec))
    per_code = {}

    def code_rec(code):
        fn = code_info(code)[1]
        bps = {}
        for (f, n), cs in bp_lines.items():
            if f == fn:
                bps[n] = True if any(not t for t, _ in cs) else [cc for _, cc in cs]
        o = only.get(id(code))
        # the lines a counting event cannot just count (plain: absent): a
        # breakpoint's with only its hit to note (1: from_hit, no
        # condition), or where line() has more to do (0: a count's
        # breakpoint, one with a condition, the stop's line)
        special = {}
        for n, b in bps.items():
            if counting or (from_hit and b is not True):
                special[n] = 0
            elif from_hit:
                special[n] = 1
        if top_want is not None and fn == top_want[0]:
            special[top_line] = 0
        fh = file_hits.setdefault(code.co_filename, [])
        top = max(L.own_lines(code), default=code.co_firstlineno)
        if len(fh) <= top:
            fh.extend([0] * (top + 1 - len(fh)))
        # (3.8-3.11: a one-line code's event is counted at its call)
        one = one_line(code) if not MONITORING else None
        c = per_code[id(code)] = (code, fh, bps, o[1] if o is not None and o[0] is code else None, special, one)
        return c

    def holds(code, frame):
        """Whether a breakpoint's condition holds in frame, as a live stop
        evaluates it (an error counting as false)."""
        if code is None:
            return True
        try:
            return code is not False and bool(eval(code, frame.f_globals, frame.f_locals))
        except Exception:  # noqa: BLE001 - as a live condition's error: false
            return False
    in_scope = {}  # id(code) -> (code, whether its frames report line events)

    def traced(code):
        e = in_scope.get(id(code))
        r = e[1] if e is not None and e[0] is code else None
        if r is None:
            inputs.seen(code)  # (datetime's clocks, read in C)
            r = user(code.co_filename)
            if r and scope is not None and not scope.get("all"):
                fn = paths.abs_file(code.co_filename)
                # by name: a frame rebuilt by the resume runs a code of its
                # own, with the function's name (and a first line of its own)
                has_bp = fn in scope_lines and not scope_lines[fn].isdisjoint(L.own_lines(code))
                r = (fn, code.co_name) in scope_codes or has_bp
                if (fn, code.co_name) == stop_only and not has_bp:
                    only[id(code)] = (code, only_line)
            in_scope[id(code)] = (code, r)
        return r

    def sid(frame):
        e = serial.get(id(frame))
        if e is not None and e[0] is frame:
            return e[1], e[2]
        p = frame.f_back
        while p is not None and not user(p.f_code.co_filename):
            p = p.f_back
        ps = 0
        if p is not None:
            pe = serial.get(id(p))
            if not traced(p.f_code):
                # a caller outside the scope: its line and values at this
                # call, which stay as they are while the callee runs
                record(p, False, True)
            elif pe is None or pe[0] is not p:
                # a traced caller live since before the events began (in
                # a call all along): its state now, as begin() records it
                record(p, False, False, True)
            pe = serial.get(id(p))
            ps = pe[1] if pe is not None and pe[0] is p else sid(p)[0]
        count[1] += 1
        serial[id(frame)] = (frame, count[1], ps)
        if not traced(frame.f_code):
            watch_return(frame)  # to forget it then (no line events)
        return count[1], ps

    def forget(frame):
        """frame returned (or raised): it is gone. (A generator's yield is
        not this: its frame comes back, the same frame of the history.)"""
        if fast[0]:
            return
        e = serial.pop(id(frame), None)
        if e is not None and e[0] is frame:
            last_of.pop(e[1], None)

    def stack_of(frame):
        st = []
        f = frame
        while f is not None:
            if user(f.f_code.co_filename):
                # (a caller: its call's line, as the snapshots have it)
                line = f.f_lineno if f is frame else (line_at(f.f_code, f.f_lasti) or f.f_lineno)
                st.append((paths.abs_file(f.f_code.co_filename), line))
            f = f.f_back
        st.reverse()
        return st

    def finish(how):
        if done:
            return
        if cps is not None and fast[0] and cps.waiting:
            # the counting run is over: its copy nearest before the last
            # `keep` events (from_hit: HIT_MARGIN before the last hit among
            # them, MIN_TAIL at least), or the trailing copy, records them and
            # writes OUT; this one ends
            cps.resume_copy(count[0], bound(count[0]))
        elif cps is not None:
            cps.drop()  # (this run recorded them all)
        if last_cand[0] is not None and not same_locals(None, last_cand[0]):
            stop_ok[0] = matched_at[0] >= 0
            if stop_ok[0]:
                c_upto[0] = matched_at[0]
        done.append(how)
        attn[0] = count[0]  # (3.8-3.11's local: nothing more is counted)
        if MONITORING:
            counting_only(False)  # (on_line: nothing more once done)
        sys.settrace(None)
        threading.settrace(None)
        if out is None:  # (a snapshot's run that did not reach it)
            import _io
            with _io.open(spec["out"], "w") as f:
                f.write(json.dumps({"end": how}) + "\n")
            said_done(spec)
            return
        if counting:
            out.write(json.dumps({"end": how, "counts": tally}) + "\n")
            out.close()
            said_done(spec)
            return
        first = ring[0][10] if ring else 0
        context = sorted((e for e in last_of.values() if e[10] < first), key=lambda e: e[10])
        kept = context + list(ring)
        if unknown:
            _mark_unknown(kept, unknown[0], lambda e: verified.get(e[10], ()))
        write_events(out, codes.values(), kept, views, _key, _hides, unknown,
                     lambda e: e[7] and (stop_ok[0] or unknown) and (c_upto[0] is None or e[10] <= c_upto[0]))
        first_n = next((e[0] for e in ring if not e[8] and not e[11]), count[0])
        end = {"end": how, "events": count[0], "kept": len(ring), "first": first_n,
               "trailed": getattr(cps, "role", None) == "trail"}  # (follow.py: tests read it)
        # the generators' frames suspended here, keyed: a window after this
        # one resumes them (resumed) and finds their earlier lines here
        live = set()
        f = sys._getframe()
        while f is not None:
            live.add(id(f))
            f = f.f_back
        susp = [[s, _resume_key(f)] for f, s, _ in serial.values()
                if f.f_code.co_flags & GENERATOR_FLAGS and id(f) not in live and s in last_of]
        if susp:
            end["suspended"] = susp
        if unknown:
            end["outside"] = "%s at %s" % unknown[0][1:]
        out.write(json.dumps(end) + "\n")
        out.close()
        said_done(spec)

    def user_frames(frame):
        fs = []
        f = frame
        while f is not None:
            if user(f.f_code.co_filename):
                fs.append(f)
            f = f.f_back
        fs.reverse()
        return fs

    def same_locals(frame, fs=None):
        """Whether the program's frames (frame's and its callers', or fs)
        have the locals of "until"."""
        fs = fs or user_frames(frame)
        if len(fs) != len(want_locals):
            return False
        for f, want in zip(fs, want_locals):
            loc = f.f_locals
            if loc is f.f_globals:
                continue
            for k, r in want.items():
                if k not in loc or _safe_repr(loc[k]) != r:
                    return False
        return True

    codes = {}  # code -> (qualified name, file, K)

    def code_info(code):
        c = codes.get(code)
        if c is None:
            c = codes[code] = (getattr(code, "co_qualname", code.co_name), paths.abs_file(code.co_filename), len(codes))
        return c

    top_want = want_stack[-1] if want_stack else None
    top_line = top_want[1] if top_want else None
    views = {}  # a mutable value's view's items -> I (made at its event)
    hidden = {}  # name -> whether view.redacted hides it

    def _hides(name):
        h = hidden.get(name)
        if h is None:
            h = hidden[name] = redacted(name)
        return h

    def _key(name, v):
        """The view of value v of local name, as items."""
        if _hides(name):
            return (("type", ""), ("repr", "<redacted>"), ("redacted", True))
        if type(v) is int and -_SMALL < v < _SMALL:
            return (("type", "int"), ("repr", repr(v)))  # view(v, 0)'s, without its calls
        # type and repr: the value then (children would cost every event)
        return tuple(view(v, 0).items())

    def record(frame, candidate, caller=False, where=False, resume=None):
        """An event of frame: a line event (numbered), or a frame's state
        where the events begin: a caller outside the scope at its call
        (caller), a frame live where a forked copy's events begin or a
        generator's that began before the events, resumed (where; resume:
        its _resume_key); those two take the number of the line event after
        them."""
        s, p = sid(frame)
        vals = {}
        g = frame.f_globals
        loc = frame.f_locals
        if loc is not g:
            # an immutable value's view is made only if its event is kept
            # (it cannot change meanwhile); any other's now
            for k, v in loc.items():
                if type(v) in _IMMUTABLE:
                    vals[k] = v
                else:
                    key = _key(k, v)
                    m = views.get(key)
                    if m is None:
                        m = views[key] = _Made(len(views))
                    vals[k] = m
        name, fn, k = code_info(frame.f_code)
        true = None  # (the conditions true here, at a line with conditions)
        if bp_lines and not caller and not where:
            cs = bp_lines.get((fn, frame.f_lineno))
            if cs and any(text for text, _ in cs):
                true = [text for text, cc in cs if text and holds(cc, frame)]
        h = 0
        if not caller and not where:
            c = per_code.get(id(frame.f_code))
            if c is None or c[0] is not frame.f_code:
                c = code_rec(frame.f_code)
            h = _bump(c[1], frame.f_lineno)
        line = frame.f_lineno
        if caller or where:
            line = line_at(frame.f_code, frame.f_lasti) or line  # (at its call)
        ev = (count[0], s, p, k, line, g.get("__name__", "") if loc is g else "", vals, candidate, caller,
              true, count[2], where, h, resume)
        ring.append(ev)
        last_of[s] = ev
        count[2] += 1
        if not caller and not where:
            count[0] += 1

    def begin(frame):
        """A forked copy's events begin at frame's line event: first each
        live frame of the program as it is now (callers outermost first)."""
        fast[0] = False
        if MONITORING:
            counting_only(False)
        cps.every = 0  # (the copy records to the end: no copies of its own)
        attn[0] = attention(count[0])
        if MONITORING:
            sys.monitoring.restart_events()  # (the counting run DISABLEd return events)
        ring.clear()
        last_of.clear()
        serial.clear()
        for f in user_frames(frame)[:-1]:
            if traced(f.f_code):
                record(f, False, False, True)
                if not MONITORING and f.f_trace is None:
                    f.f_trace = local  # (a call counted at_call: its return comes)

    def resumed(frame):
        """A traced generator's frame resumed: one that began before the
        events (the anchor's, or a copy's first) and that none has shown
        yet gets its state now, keyed to find it, suspended, at the end of
        the windows before (finish's "suspended")."""
        if done or fast[0] or trig.rebuilding:
            return
        e = serial.get(id(frame))
        if e is None or e[0] is not frame:
            record(frame, False, False, True, _resume_key(frame))

    def count_hit(frame):
        """A counting run's event: a hit of each breakpoint at its line whose
        condition holds in the frame; keyed "file:line:condition"."""
        at = (code_info(frame.f_code)[1], frame.f_lineno)
        for cond, cc in bp_lines.get(at) or ():
            if holds(cc, frame):
                key = "%s:%d:%s" % (at[0], at[1], cond)
                tally[key] = tally.get(key, 0) + 1

    top_locals = want_locals[-1] if want_locals and not last else None
    # of those, the ones whose repr is an int's, str's or bytes': compared
    # by value first (a loop's counter tells a hot line's events apart
    # without a repr)
    top_values = _literals(top_locals or {})
    stop_values = _literals(want_locals[-1]) if want_locals and last else ()

    def at_stop(frame):
        # the cheap tests first: the stop's own line in its file, then (a
        # stop that is not an exception's) its frame's locals, which tell a
        # hot line's events apart at once
        if top_want is None or frame.f_lineno != top_want[1] or code_info(frame.f_code)[1] != top_want[0]:
            return False
        if top_locals:
            loc = frame.f_locals
            if loc is not frame.f_globals:
                for k, v in top_values:
                    x = loc.get(k, loc)
                    if type(x) is not type(v) or x != v:
                        return False
                for k, r in top_locals.items():
                    if k not in loc or _safe_repr(loc[k]) != r:
                        return False
        return output_bytes() == want_out and stack_of(frame) == want_stack

    def only_stop(frame):
        """Whether an event of stop_only's code at its line is the stop
        (else it is no event of the history)."""
        return at_stop(frame) and (last or same_locals(frame))

    def line(frame):
        if done or trig.rebuilding:
            return
        n = count[0]
        # (without checkpoints attn is upto, where the run ends below)
        if n == attn[0] and cps is not None:
            if n == rec_from[0]:
                rec_from[0] = None
                begin(frame)  # a resumed copy: it records from here
            elif cps.due(n):
                go = cps.fork(n)
                if go is not None:
                    # a forked copy, resumed: it records from event `go`
                    cps.every = 0
                    if go <= n:
                        begin(frame)
                    else:
                        fast[0], rec_from[0] = True, go
                elif n == cps.first:
                    # a stretch longer than a window: the run only counts
                    # from here if a copy waits here (else it has threads:
                    # it records in full, the ring keeping the last ones)
                    if cps.forked:
                        fast[0] = True
                        ring.clear()
                        last_of.clear()
                        serial.clear()
                    else:
                        cps.every = 0
            attn[0] = attention(n)
        if fast[0]:
            if MONITORING and not fast_cb[0]:
                counting_only(True)
            if n == upto or (counting and upto is None and at_stop(frame) and same_locals(frame)):
                if snap:
                    snapshot_here(rec, frame, spec["out"], unknown)
                finish("matched")  # (a count's: this event not included)
                os._exit(0)
            if counting:
                count_hit(frame)
            code = frame.f_code
            c = per_code.get(id(code))
            if c is None or c[0] is not code:
                c = code_rec(code)
            ln = frame.f_lineno
            if from_hit and c[2]:
                b = c[2].get(ln)
                if b is not None and (b is True or any(holds(cc, frame) for cc in b)):
                    last_hit[0] = n
            count[0] = n + 1
            _bump(c[1], ln)
            if ln == top_line and not last and upto is None and at_stop(frame) and same_locals(frame):
                finish("matched")
                os._exit(0)
            return
        at = upto is None and at_stop(frame)
        if at and unknown:
            # the stop's locals that are the recording's (_mark_unknown)
            want = want_locals[-1] if want_locals else {}
            loc = frame.f_locals
            verified[count[2]] = {k for k, r in want.items() if k in loc and _safe_repr(loc[k]) == r}
        if at and last:
            last_cand[0] = user_frames(frame)
            # (the loop counters first: a hot line's candidates differ there)
            loc = frame.f_locals
            if all(type(loc.get(k, loc)) is type(v) and loc[k] == v for k, v in stop_values) \
                    and same_locals(frame):
                matched_at[0] = count[2]  # (the number record() gives this event)
        record(frame, at)
        if n == upto or (at and not last and same_locals(frame)):
            finish("matched")
            os._exit(0)

    def at_exit():
        finish("exit")
        # nothing after this is the program's (its own atexit functions ran
        # before: registered later): the interpreter's teardown is skipped
        os._exit(0)

    # what the program read from outside comes from the recording
    # (inputs.py); the first value that was not recorded: (the number of
    # the line event after it, what, where)
    def outside(what, frame):
        if unknown or trig.rebuilding:
            return
        f = frame
        while f is not None and not user(f.f_code.co_filename):
            f = f.f_back
        where = "%s:%d" % (paths.abs_file(f.f_code.co_filename), f.f_lineno) if f is not None else "?"
        unknown.append((count[0], what, where))
    inputs.on_unknown(outside)

    def changed(path):
        outside("%s (its content then: it changed after the snapshot this re-executes from)"
                % os.fspath(path), sys._getframe(2))
    from . import sandbox
    sandbox.on_changed[0] = changed
    import atexit
    atexit.register(at_exit)
    # an uncaught exception ends the run where the original's stop took
    # it (process.report_uncaught), not after printing it: 3.13 prints a
    # traceback in Python, 15-30 ms of a re-execution for nothing
    from . import process
    process.uncaught_hooks.insert(0, lambda e, tb, sid: at_exit())
    if MONITORING:
        DISABLE = sys.monitoring.DISABLE
        getframe = sys._getframe

        def on_line(code, ln):
            """3.12+: the LINE callback of a traced code (stop_only's: its
            one line) but while the run only counts (fast_line)."""
            return event_at(code, ln, getframe(1))

        def event_at(code, ln, f):
            if done:
                return DISABLE
            c = per_code.get(id(code))
            if c is None or c[0] is not code:
                c = code_rec(code)
            if c[3] is not None:
                if c[3] != ln:
                    return DISABLE
                if only_stop(f):
                    line(f)
                return None
            line(f)
            return None

        pc_get = per_code.get
        hot = [(None,)]  # the per_code entry of the code of the last event counted

        def fast_line(code, ln):
            """3.12+: the LINE callback while the run only counts (fast, once
            the resume's rebuild is over: line() makes it so): a plain
            line's event, or a from_hit breakpoint's with its hit noted,
            counted at the least cost (one Python call, without its frame:
            this is most of a window's cost), the rest passed to line(),
            which has more to do there: a checkpoint, the run's end, the
            stop's line, a breakpoint's in a count or with a condition,
            stop_only's code. 3.8-3.11's `local` has the same rule, inline."""
            c = hot[0]
            if c[0] is not code:
                c = pc_get(id(code))
                if c is None or c[0] is not code or c[3] is not None:
                    return event_at(code, ln, getframe(1))
                hot[0] = c
            n = count[0]
            if n == attn[0]:
                return event_at(code, ln, getframe(1))
            sp = c[4]
            if ln in sp:
                if sp[ln] == 0:
                    return event_at(code, ln, getframe(1))
                last_hit[0] = n
            count[0] = n + 1
            try:
                c[1][ln] += 1
            except IndexError:
                _bump(c[1], ln)
            return None

        watch_return, set_line = _monitor(traced, on_line, forget, resumed, done, fast, started)

        def counting_only(on):
            """fast_line is the LINE callback (on) or on_line is."""
            if on != fast_cb[0]:
                fast_cb[0] = on
                set_line(fast_line if on else on_line)
    else:
        def full(frame, event, arg):
            """3.8-3.11: a traced frame's event but for local's counting
            path: its line event (stop_only's code: its one line), and its
            return (a generator's yield is not one: _yielding)."""
            if done:
                return None
            if event == "line":
                code = frame.f_code
                c = per_code.get(id(code))
                if c is None or c[0] is not code:
                    c = code_rec(code)
                if c[3] is not None:
                    if c[3] == frame.f_lineno and only_stop(frame):
                        line(frame)
                    return local
                line(frame)
            elif event == "return" and not fast[0] and not _yielding(frame):
                forget(frame)  # (a counting run (fast) keeps no frames)
            return local

        hot_code = [(None,)]  # the per_code entry of the code of the last event counted

        def local(frame, event, arg):
            """3.8-3.11: a traced frame's trace function. While the run only
            counts, a plain line's event, or a from_hit breakpoint's with its
            hit noted, is counted here at the least cost (fast_line's rule,
            inline: this is most of a window's cost), its other events
            ignored; the rest goes to full(): a checkpoint, the run's end,
            the stop's line, a breakpoint's in a count or with a
            condition, stop_only's code, the events of a run that records,
            any event while the resume rebuilds the stack or once the run is
            done (attn is the count then: held)."""
            if fast[0]:
                if event != "line":
                    return local
                code = frame.f_code
                c = hot_code[0]
                if c[0] is not code:
                    c = per_code.get(id(code))
                    if c is None or c[0] is not code or c[3] is not None:
                        return full(frame, event, arg)
                    hot_code[0] = c
                ln = frame.f_lineno
                n = count[0]
                if n == attn[0] or ln in c[4]:
                    if n == attn[0] or c[4][ln] == 0 or done or trig.rebuilding:
                        return full(frame, event, arg)
                    last_hit[0] = n
                count[0] = n + 1
                try:
                    c[1][ln] += 1
                except IndexError:
                    _bump(c[1], ln)
                return local
            return full(frame, event, arg)

        # (a one-line code's call counts its line event: linehooks.one_line)
        precount = precounter(fast, hot_code, per_code, code_rec, count, attn, last_hit,
                              done, trig, local)
        if trig.rebuilding:
            # (no event counts until the rebuild is over: local's rule)
            attn[0] = count[0]

            def rebuilt(frame, line):
                attn[0] = attention(count[0] - 1)
            trig.on_arrival.append(rebuilt)
        watch_return = _settrace(traced, in_scope, local, forget, resumed, done, precount)
        f = arrived
        while f is not None:
            if traced(f.f_code):
                f.f_trace = local  # (as the call event would have made it)
            f = f.f_back

