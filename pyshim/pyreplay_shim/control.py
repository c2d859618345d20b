"""Live control of a program being debugged (``pyreplay dap``).

Go listens on a Unix socket and passes its address in the config
(``control``). The shim connects, and the two exchange JSON lines:

  Go -> shim   {"id": N, "cmd": NAME, ...}
  shim -> Go   {"reply": N, "ok": true, "body": {...}}  |  {"reply": N, "ok": false, "error": "..."}
               {"event": "ready" | "stopped" | "output", ...}

Every stop (breakpoint, function or exception breakpoint, pause, the end of
a step, entry) is a snapshot taken with Recorder.snapshot; the program then
blocks in ``Control.serve`` answering evaluate / children / breakpoints
until a run command (continue, next, stepIn, stepOut) arrives.

Cost: breakpoints use the same mechanisms as recording (triggers.py), with
the same firing rule. Stepping (and the "raised" exception filter on
3.8-3.11) installs a trace function of its own, removed as soon as the step
ends; on 3.8-3.11 it also carries the breakpoint frames' line events while
it is on. A breakpoint added on 3.8-3.11 to code that is already running
recompiles that file's functions with their entry hooks (their ``__code__``
is swapped); frames of it that are on the stack at that moment are traced
until they return.

Commands are read by a background thread. While the program runs, that
thread wakes the main thread with SIGUSR2 so that pause and breakpoint
changes are applied there (programs that install their own SIGUSR2 handler
lose live pause and live breakpoint changes, nothing else).
"""
import itertools
import json
import os
import posix
import queue
import signal
import socket
import sys
import threading
import traceback

from . import livebps as LB, paths, periodic, process as P, threadpause, wire as W
from .output import output_bytes
from .versions import MONITORING
from .state import _safe_repr
from . import view as VW
from .view import view


ACTIVE = None
RUN_COMMANDS = W.RUN_COMMANDS
IGNORED_RAISES = (StopIteration, StopAsyncIteration, GeneratorExit)
PAGE = 100


def install(rec, cfg, sock=None):
    """Called by main.py when the config has a control address: connect (or
    use sock, a live child's connection from its session: children.py) and
    return the Triggers the run uses."""
    global ACTIVE
    ctl = Control(rec, cfg, sock)
    ACTIVE = ctl
    P.uncaught_hooks.append(ctl.on_uncaught)
    from . import children
    children.spawned_hooks.append(ctl.child_started)
    children.fork_hooks.append(ctl.forked_child)
    trig = LB.LiveTriggers(rec, cfg, ctl)
    ctl.trig = trig
    rec.after.append(ctl.repoke)  # (a command sent during a snapshot: served after it)
    if rec.criu is not None:
        # a CRIU image of a stop leaves the session's socket outside; a copy
        # restored from it runs undebugged (criu.py)
        rec.criu.files["live"] = ctl.chan.sock.fileno()
        rec.criu.on_copy.append(ctl.detach)
    return trig


# ---------------------------------------------------------------- channel
class Channel:
    def __init__(self, addr, ctl, sock=None):
        if sock is not None:
            self.sock = sock
        elif not addr.startswith("unix:"):
            raise ValueError("unsupported control address %r" % addr)
        else:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.connect(addr[5:])
        self.rfile = self.sock.makefile("rb")
        self.lock = threading.Lock()
        self.q = queue.Queue()
        self.ctl = ctl
        self.main_ident = threading.main_thread().ident
        t = threading.Thread(target=self._read, name="pyreplay-control", daemon=True)
        t.pyreplay_internal = True  # not the program's: snapshots leave it out
        t.start()

    def send(self, obj):
        if self.ctl.detached:
            return  # nobody reads the socket of a restored copy
        data = (json.dumps(obj, default=str) + "\n").encode()
        with self.lock:
            self.sock.sendall(data)

    def _read(self):
        try:
            for line in self.rfile:
                try:
                    msg = json.loads(line)
                except ValueError:
                    continue
                self.q.put(msg)
                if not self.ctl.stopped and self.ctl.started:
                    self.poke()
        except Exception:  # noqa: BLE001 - the connection is gone
            pass
        if self.ctl.detached:
            return  # a restored copy: its restorer holds its life (CRIU's init)
        # pyreplay went away: the program must not outlive its debugger
        os._exit(137)

    def poke(self):
        try:
            signal.pthread_kill(self.main_ident, signal.SIGUSR2)
        except Exception:  # noqa: BLE001
            pass


# ---------------------------------------------------------------- control
class Control:
    def __init__(self, rec, cfg, sock=None):
        self.rec = rec
        self.cfg = cfg
        self.trig = None
        self.stopped = False
        self.started = False
        self.step = None          # [mode, frame, returned]
        self.just = None          # (frame, line, source) of the last stop
        self.frames = []          # frames of the current stop, outermost first
        self.results = {}
        self.rid = itertools.count(1)
        self.func_watch = set()  # <=3.11: function breakpoints caught by the trace function
        self.tracing = False
        self.filters = set()
        self.just_my_code = True
        self.raise_tool = None
        self.evaluating = False
        self.detached = False  # a copy restored from a CRIU image: no more stops
        self.at = None  # the stop's snapshot arguments (cmd_refresh)
        self.fn_first = None  # (frame, qualname): a watched function's first call, to fire at its first line
        self.awaiting = None  # (frame, line): a coroutine stepped over an await, suspended there
        # threads: one stop at a time; the others wait at theirs (turn), and
        # on 3.12+ every other thread of the program pauses at its next line
        self.stop_ident = None
        self.turn = threading.Condition()
        self.freezing = None  # the pausing trace function while it is on
        self.pid = posix.getpid()
        self.chan = Channel(cfg["control"], self, sock)

    # -- messages
    def output(self, category, text):
        try:
            output_bytes()
            self.chan.send({"event": W.EVENT_OUTPUT, "category": category, "text": text})
        except Exception:  # noqa: BLE001
            pass

    def reply(self, rid, ok, body=None, error=None):
        msg = {"reply": rid, "ok": ok}
        if ok:
            msg["body"] = body or {}
        else:
            msg["error"] = error
        self.chan.send(msg)

    def child_started(self, pid, addr, argv):
        """A Python child started live (children.py): the session asks the
        editor for a child session attaching at addr."""
        self.chan.send({"event": W.EVENT_CHILD, "pid": pid, "control": addr, "argv": argv})

    def forked_child(self, path):
        """In a forked child of the live program (children.py): its session
        attaches at path and configures it as a started program's; nobody
        attached in time, it runs on undebugged (recorded)."""
        try:
            self.chan.sock.close()  # (this process's copy of the parent's connection)
        except OSError:
            pass
        self.turn = threading.Condition()  # (another thread may have held it at the fork)
        self.stopped, self.stop_ident, self.freezing, self.step = False, None, None, None
        from .children import ATTACH_WAIT, await_debugger
        self.detached = True  # (until its session is there)
        sock = await_debugger(path, ATTACH_WAIT)
        if sock is None:
            return
        self.detached = False
        self.pid = posix.getpid()
        # (its run is made at its first snapshot: none to name yet)
        self.cfg = dict(self.cfg, run=None)
        self.started = False  # the session's "start" is the handshake's, not served by a poke
        self.chan = Channel("", self, sock)
        self.handshake()
        self.started = True
        self._update_raise()
        # its exit code, which its session cannot wait for (multiprocessing
        # ends a forked child with os._exit)
        real_exit = os._exit

        def _exit(code):
            try:
                self.chan.send({"event": W.EVENT_EXIT, "code": code})
            except Exception:  # noqa: BLE001 - the exit comes first
                pass
            real_exit(code)

        os._exit = _exit

    # -- start-up
    def handshake(self):
        cfg = self.cfg
        if cfg.get("mode") == "record" and cfg.get("program"):
            prog = cfg["program"]
            try:
                with open(prog, "rb") as fh:
                    compile(fh.read(), prog, "exec", dont_inherit=True)
            except SyntaxError as e:
                P.fail(cfg, "syntax error in %s:%s: %s" % (e.filename or prog, e.lineno, e.msg), 1)
        self.chan.send({"event": W.EVENT_READY, "pid": posix.getpid(), "run": cfg.get("run"),
                        "python": "%d.%d.%d" % sys.version_info[:3]})
        while True:
            msg = self.chan.q.get()
            cmd = msg.get("cmd")
            if cmd == W.CMD_START:
                self.start_msg = msg
                self.cmd_breakpoints(msg)
                self.reply(msg.get("id"), True)
                return
            self.dispatch(msg)

    def after_start(self):
        signal.signal(signal.SIGUSR2, self._on_signal)
        self.started = True  # from now on the reader may wake the main thread
        self._update_raise()
        if self.start_msg.get("stopOnEntry"):
            self.step = ["entry", None, False]
        elif self.start_msg.get("anchor"):
            # line history: a snapshot at the program's first line, no stop
            self.step = ["anchor", None, False]
        self.retrace(sys._getframe())
        # commands that came while starting
        if not self.chan.q.empty():
            self.chan.poke()

    # -- commands
    def dispatch(self, msg):
        cmd = msg.get("cmd")
        rid = msg.get("id")
        if cmd in (W.CMD_EVALUATE, W.CMD_CHILDREN):
            # program code runs: pyreplay interrupts it (SIGINT, see stop)
            # past its deadline
            self.evaluating = True
            try:
                body = getattr(self, "cmd_" + cmd)(msg)
            except _EvalInterrupted:
                self.evaluating = False
                self.reply(rid, False, error="the evaluation took too long and was interrupted")
                return
            except BaseException as e:  # noqa: BLE001 - the user's expression; keep serving
                self.evaluating = False
                self.reply(rid, False, error="%s: %s" % (type(e).__name__, e))
                return
            self.evaluating = False
            self.reply(rid, True, body)
            return
        if cmd == W.CMD_KILL:
            os._exit(137)
        if cmd in RUN_COMMANDS or cmd == W.CMD_PAUSE:
            self.reply(rid, True)
            return
        fn = getattr(self, "cmd_" + str(cmd), None)
        if fn is None:
            self.reply(rid, False, error="unknown command %r" % cmd)
            return
        try:
            body = fn(msg)
        except Exception as e:  # noqa: BLE001 - report, keep serving
            self.reply(rid, False, error="%s: %s" % (type(e).__name__, e))
            return
        self.reply(rid, True, body)

    def cmd_breakpoints(self, msg):
        self.just_my_code = msg.get("justMyCode", True) is not False
        errors = self.trig.set_all(msg.get("lines") or [], msg.get("funcs") or [])
        self.filters = set(msg.get("exceptions") or [])
        if self.started:
            self._update_raise()
            if not self.stopped:
                self.retrace(LB.main_frame())
        return {"errors": errors}

    def _need_frame(self, msg):
        if not self.stopped:
            raise RuntimeError("the program is running")
        i = msg.get("frame")
        if not isinstance(i, int) or not 0 <= i < len(self.frames):
            raise RuntimeError("no frame %r at this stop" % (i,))
        return self.frames[i]

    def cmd_evaluate(self, msg):
        f = self._need_frame(msg)
        expr = msg.get("expr") or ""
        try:
            code = compile(expr, "<pyreplay evaluate>", "eval")
            is_expr = True
        except SyntaxError:
            if msg.get("context") != "repl":
                raise
            code = compile(expr, "<pyreplay evaluate>", "exec")
            is_expr = False
        loc = f.f_locals
        value = eval(code, f.f_globals, loc)
        if not is_expr:
            if loc is not f.f_globals:
                _locals_to_fast(f)
            return {"value": {"type": "", "repr": ""}, "ref": 0}
        rid = next(self.rid)
        self.results[rid] = value
        return {"value": view(value, 1), "ref": rid}

    def cmd_refresh(self, msg):
        """The stop snapshotted again (its views fresh after an evaluation
        or an assignment changed values); the frames stay."""
        if not self.stopped or self.at is None:
            raise RuntimeError("the program is running")
        reason, label, frame, kind, tb = self.at
        sid = self.rec.snapshot(reason, label, frame, kind, tb=tb)
        if sid is None:
            raise RuntimeError("the stop could not be snapshotted again")
        return {"snap": sid}

    def cmd_children(self, msg):
        if not self.stopped:
            raise RuntimeError("the program is running")
        root = msg.get("root") or {}
        if "result" in root:
            if root["result"] not in self.results:
                raise RuntimeError("that evaluation result is gone")
            obj = self.results[root["result"]]
        elif "module" in root:
            mod = sys.modules.get(root["module"])
            if mod is None:
                raise RuntimeError("module %s is not loaded" % root["module"])
            obj = mod.__dict__[root["name"]]
        else:
            f = self._need_frame(msg)
            obj = f.f_locals[root["name"]]
        for pos in msg.get("path") or []:
            obj = _nth(obj, pos)
        start = max(0, int(msg.get("start") or 0))
        count = int(msg.get("count") or 0) or PAGE
        kids, total = _page(obj, start, count)
        return {"children": kids, "len": total}

    # -- stops
    def hit(self, bps, frame, kind, reason, label, source):
        """A breakpoint location was reached: count, log, maybe stop."""
        self._after_other_stop()
        if self.stopped or self._snapshotting():
            return False
        fired = self.trig.fired(bps, frame)
        if not fired:
            return False
        if all(bp.oneshot for bp in fired):
            reason = "entry"
        for bp in fired:
            if bp.oneshot:
                self._drop(bp)
        return self.stop(reason, label, frame, kind, source, bps=[bp.id for bp in fired if not bp.oneshot])

    def _drop(self, bp):
        for ls in self.trig.lines.values():
            for bps in ls.values():
                if bp in bps:
                    bps.remove(bp)

    def stop(self, reason, label, frame, kind, source, bps=None, tb=None, exc=None, sid=None):
        """Stop here: snapshot, report, serve until a run command. Returns
        whether it stopped."""
        if posix.getpid() != self.pid:
            return False  # (a forked child runs on, undebugged)
        me = threading.get_ident()
        with self.turn:
            self._wait_turn(me)  # another thread's stop first: this one comes after it
            if self.stopped:
                return False  # (this thread is stopped: an evaluation's code)
            line = frame.f_lineno if frame is not None else None
            j, self.just = self.just, None
            if j is not None and frame is not None and j[0] is frame and j[1] == line \
                    and {j[2], source} == {"trace", "bp"}:
                return True  # the same moment, seen by the tracer and by a breakpoint
            self.stopped = True
            self.stop_ident = me
        frozen = False
        try:
            frozen = threadpause.freeze(self)
            if frozen:  # (where other threads run on, 3.8's, so do the anchors)
                periodic.hold()
            snap_reason = "step" if reason in ("step", "pause") else reason
            snap_label = label or ("" if reason != "pause" else "pause")
            while sid is None:
                sid = self.rec.snapshot(snap_reason, snap_label, frame, kind, tb=tb)
                if sid is not None or self.rec.busy_here() or not self.rec.busy:
                    break
                self.rec.wait_other()  # (another thread's anchor began first)
            if sid is None or self.detached:
                return False
            self.at = (snap_reason, snap_label, frame, kind, tb)
            self.frames = _collect(frame, tb)
            out, err = output_bytes()
            self.step = None
            self.chan.send({"event": W.EVENT_STOPPED, "snap": sid, "reason": reason, "label": label,
                            "bps": bps or [], "exc": exc, "stdout": out, "stderr": err, "all_stopped": frozen})
            try:
                old_int = signal.signal(signal.SIGINT, self._on_sigint)
            except ValueError:  # stopped in another thread
                old_int = None
            try:
                msg = self.serve()
            finally:
                if old_int is not None:
                    signal.signal(signal.SIGINT, old_int)
        finally:
            self.frames = []
            self.results = {}
            self.at = None
            with self.turn:
                self.stopped = False
                self.stop_ident = None
                if frozen:
                    periodic.release()
                threadpause.thaw(self)
                self.turn.notify_all()
        if tb is not None or msg is None:
            return True
        self.just = (frame, line, source)
        cmd = msg.get("cmd")
        if cmd == "next":
            self.step = ["next", frame, False]
        elif cmd == "stepIn":
            self.step = ["in", frame, False]
        elif cmd == "stepOut":
            self.step = ["out", frame, False]
        else:
            self.step = None
        self.retrace(sys._getframe(1))
        return True

    def _snapshotting(self):
        """Whether this event is a snapshot's own (this thread is taking
        one: the event is the snapshot code's, not the program's). Another
        thread's snapshot (a periodic anchor) is waited for first: what
        happens here comes after it, not instead of it (a breakpoint hit,
        a step's line, a raise)."""
        rec = self.rec
        if not rec.busy:
            return False
        if rec.busy_here():
            return True
        rec.wait_other()
        return False

    def _after_other_stop(self):
        """A breakpoint or step reached in another thread while one is
        stopped comes after that stop (a stop per thread, none lost)."""
        me = threading.get_ident()
        if not self.stopped or self.stop_ident in (None, me):
            return
        with self.turn:
            self._wait_turn(me)

    def _wait_turn(self, me):
        """Wait (holding self.turn) while another thread is stopped."""
        while self.stopped and self.stop_ident not in (None, me):
            self.turn.wait()

    def detach(self):
        """A copy restored from a CRIU image of this session: it runs to its
        end undebugged (become_copy has stopped tracing; pyreplay resume
        holds the copy's end of the socket, and nothing is sent on it)."""
        self.detached = True
        self.step = None

    def _on_sigint(self, signum, frame):
        if self.evaluating:
            self.evaluating = False
            raise _EvalInterrupted()

    def serve(self):
        while True:
            msg = self.chan.q.get()
            cmd = msg.get("cmd")
            if cmd in RUN_COMMANDS:
                self.reply(msg.get("id"), True)
                return msg
            self.dispatch(msg)

    def on_uncaught(self, exc, tb, sid):
        if "uncaught" not in self.filters or tb is None or sid is None:
            return
        last = tb
        while last.tb_next is not None:
            last = last.tb_next
        self.stop("exception", type(exc).__name__, last.tb_frame, "exception", "uncaught",
                  tb=tb, exc=_exc_info(exc, "unhandled"), sid=sid)

    def _on_raise(self, frame, exc):
        if self.stopped or self._snapshotting() or isinstance(exc, IGNORED_RAISES):
            return
        if not self._traceable(frame.f_code.co_filename):
            return
        self.stop("exception", type(exc).__name__, frame, "exception", "raise", exc=_exc_info(exc, "always"))

    # -- running: signals, tracing
    def repoke(self):
        if self.started and not self.stopped and not self.chan.q.empty():
            self.chan.poke()

    def _on_signal(self, signum, frame):
        if self.stopped or self._snapshotting():
            return
        while True:
            try:
                msg = self.chan.q.get_nowait()
            except queue.Empty:
                break
            if msg.get("cmd") == "pause":
                self.reply(msg.get("id"), True)
                user = frame
                while user is not None and not self._traceable(user.f_code.co_filename):
                    user = user.f_back
                if user is not None and (user is not frame or _in_call(frame)):
                    # blocked in a call (time.sleep, a read, a library): stop
                    # now, in the program's frame that made the call
                    self.stop("pause", "pause", user, "call", "pause")
                    continue
                self.step = ["pause", None, False]
                self.retrace(frame)
                continue
            self.dispatch(msg)

    def _traceable(self, filename):
        if paths.is_user_file(filename):
            return True
        return not self.just_my_code and not paths.is_shim_file(filename) and not filename.startswith("<")

    def retrace(self, frame):
        """Install or remove the trace function as stepping, function
        watches and the raised filter need it; ``frame`` is where the
        program is. On 3.8-3.11 it also carries the line events of the
        breakpoint frames (triggers.py) while it is on, and hands them back
        when it goes."""
        self.func_watch &= set(self.trig.funcs) if self.trig is not None else set()
        need = self.step is not None or bool(self.func_watch) \
            or (not MONITORING and "raised" in self.filters)
        bp_live = self.trig.live_frames() if not MONITORING and self.trig is not None else ()
        if need:
            f = frame
            while f is not None:
                if self._traceable(f.f_code.co_filename) or f in bp_live:
                    f.f_trace = self._local
                    f.f_trace_lines = True
                f = f.f_back
            sys.settrace(self._global)
            self.tracing = True
            return
        if self.tracing:
            sys.settrace(None)
            f = frame
            while f is not None:
                if f.f_trace is not None and getattr(f.f_trace, "__self__", None) is self:
                    f.f_trace = None
                f = f.f_back
            self.tracing = False
        if bp_live:
            self.trig.retake(frame)

    def _global(self, frame, event, arg):
        if self.func_watch and not self.stopped:
            code = frame.f_code
            qn = getattr(code, "co_qualname", None)
            for q in list(self.func_watch):
                if qn == q or (qn is None and code.co_name == q.rsplit(".", 1)[-1]):
                    if paths.is_user_file(code.co_filename):
                        # the function exists now: give it its hook, end the
                        # watch; this call's breakpoint fires at its first
                        # line, as every function breakpoint does
                        self.trig._refresh_hooks({}, {q})
                        self.fn_first = (frame, q)
                        return self._local
                    break
        if not MONITORING and not self.stopped and self.trig.call_event(frame):
            return self._local
        st = self.step
        if st is not None and st[0] in ("next", "out") and frame is st[1]:
            return self._local  # a coroutine stepped over an await resumes
        if st is not None and st[0] in ("next", "out") and not (not MONITORING and "raised" in self.filters):
            return None  # stepping over: callees run untraced
        if st is None and not (not MONITORING and "raised" in self.filters):
            return None
        if self.stopped or not self._traceable(frame.f_code.co_filename):
            return None
        return self._local

    def _local(self, frame, event, arg):
        # the frame's trace function as it is now: a stop that ended
        # stepping handed it back to the breakpoints' (triggers.retake)
        self._event(frame, event, arg)
        return frame.f_trace

    def _event(self, frame, event, arg):
        if self.stopped or (self.rec.busy and self._snapshotting()):
            return self._local
        if event == "line" and self.fn_first is not None and self.fn_first[0] is frame:
            q, self.fn_first = self.fn_first[1], None
            self.trig.fire_func(frame, "line", q)
            if not self.stopped and self.step is None:
                self.retrace(frame)
        if event == "line":
            line = frame.f_lineno
            if self.awaiting is not None and self.awaiting[0] is frame:
                resumed, self.awaiting = self.awaiting[1] == line, None
                if resumed:
                    return self._local  # back from the await, on its own line
            if not MONITORING and self.trig.holds_bp(frame.f_code):
                bps = self.trig.lines.get(self.trig.realpath(frame.f_code.co_filename), {}).get(line)
                if bps and self.hit(bps, frame, "line", "breakpoint", "", "bp"):
                    return self._local  # that was this line's stop
            st = self.step
            if st is not None and st[0] == "anchor":
                if paths.is_user_file(frame.f_code.co_filename):
                    self.step = None
                    self.rec.snapshot("entry", "anchor", frame, "line")
                    self.retrace(frame)
                return self._local
            if st is not None and self._traceable(frame.f_code.co_filename):
                mode, sf, returned = st
                if mode in ("in", "pause", "entry") or (mode == "next" and frame is sf) \
                        or (mode == "out" and returned and frame is sf):
                    reason = {"pause": "pause", "entry": "entry"}.get(mode, "step")
                    label = {"in": "stepIn", "next": "next", "out": "stepOut"}.get(mode, mode)
                    self.stop(reason, label, frame, "line", "trace")
                    return self._local
            self.just = None
        elif event == "return":
            if not MONITORING and self.trig.holds_bp(frame.f_code):
                self.trig.left(frame)
            st = self.step
            if st is not None and st[0] == "next" and frame is st[1] and _awaits(frame):
                # as debugpy: stepping over an await goes on in the same
                # coroutine at its next line once it resumes (the event
                # loop and other tasks run meanwhile, untraced)
                self.awaiting = (frame, frame.f_lineno)
                return self._local
            if st is not None and st[0] in ("next", "out") and frame is st[1]:
                caller = frame.f_back
                while caller is not None and not self._traceable(caller.f_code.co_filename):
                    caller = caller.f_back
                if caller is None:
                    self.step = None
                elif st[0] == "out" and caller is frame.f_back:
                    # as debugpy: back on the calling line, where what
                    # the call returns is still to be used
                    self.stop("step", "stepOut", caller, W.FRAME_CALL, "trace")
                else:
                    st[1] = caller
                    st[2] = True
                    if caller.f_trace is None:
                        caller.f_trace = self._local
            if self.step is None and not (not MONITORING and "raised" in self.filters):
                self.retrace(frame.f_back)
        elif event == "exception" and not MONITORING and "raised" in self.filters:
            exc = arg[1]
            tb = arg[2]
            if tb is not None and tb.tb_next is None and tb.tb_frame is frame:
                self._on_raise(frame, exc)
        return self._local

    def _update_raise(self):
        if not MONITORING:
            return
        M = sys.monitoring
        want = "raised" in self.filters
        if want and self.raise_tool is None:
            for tid in (2, 5, 1, 3, 4):
                if M.get_tool(tid) is None:
                    M.use_tool_id(tid, "pyreplay-raise")
                    self.raise_tool = tid
                    break
            if self.raise_tool is None:
                return

            def on_raise(code, offset, exc):
                # RAISE comes again in every frame the exception unwinds
                # into; only the first, where it was raised, is a stop
                tb = exc.__traceback__
                if "raised" in self.filters and (tb is None or tb.tb_next is None):
                    self._on_raise(sys._getframe(1), exc)

            M.register_callback(self.raise_tool, M.events.RAISE, on_raise)
        if self.raise_tool is not None:
            M.set_events(self.raise_tool, M.events.RAISE if want else 0)


class _EvalInterrupted(BaseException):
    pass


def _in_call(frame):
    """Whether frame is executing a call instruction (the signal came while
    a function it called, in C, was running)."""
    try:
        from . import frames as F
        op = F.opname_at(frame.f_code, frame.f_lasti) or ""
    except Exception:  # noqa: BLE001
        return False
    return op.startswith(("CALL", "PRECALL"))


def _collect(frame, tb):
    """The frames of a stop, outermost first, as capture.Recorder._collect sees them."""
    out = []
    if tb is not None:
        while tb is not None:
            if not paths.is_shim_file(tb.tb_frame.f_code.co_filename):
                out.append(tb.tb_frame)
            tb = tb.tb_next
        return out
    f = frame
    while f is not None:
        if not paths.is_shim_file(f.f_code.co_filename):
            out.append(f)
        f = f.f_back
    out.reverse()
    return out


def _exc_info(exc, mode):
    try:
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    except Exception:  # noqa: BLE001
        text = ""
    t = type(exc)
    name = t.__qualname__ if t.__module__ in ("builtins", "__main__") else "%s.%s" % (t.__module__, t.__qualname__)
    try:
        message = str(exc)[:2000]
    except Exception:  # noqa: BLE001
        message = _safe_repr(exc)
    return {"type": name, "message": message,
            "traceback": text[-20000:], "mode": mode}


def _nth(obj, pos):
    for _name, x in itertools.islice(VW.children(obj, live=True) or (), pos, pos + 1):
        return x
    raise IndexError("item %d is gone" % pos)


def _page(obj, start, count):
    try:
        total = VW.child_count(obj)
    except Exception:  # noqa: BLE001
        total = 0
    out = []
    for name, x in itertools.islice(VW.children(obj, live=True) or (), start, start + count):
        v = VW._hidden(x) if VW.redacted(name) else view(x, 1)
        v["name"] = name
        out.append(v)
    return out, total


def _locals_to_fast(frame):
    """Write an evaluation's assignments in frame.f_locals back to the
    frame's variables (3.13's f_locals writes through by itself)."""
    if sys.version_info >= (3, 13) or not frame.f_code.co_flags & 0x1:
        return
    import ctypes
    ctypes.pythonapi.PyFrame_LocalsToFast(ctypes.py_object(frame), ctypes.c_int(0))


def _awaits(frame):
    """Whether frame is a coroutine (async def, an async generator) that
    suspends at an await rather than returning."""
    if not frame.f_code.co_flags & 0x280:  # CO_COROUTINE | CO_ASYNC_GENERATOR
        return False
    from . import frames as F
    code, i = frame.f_code, frame.f_lasti
    op = F.opname_at(code, i) or ""
    # 3.11/3.12 report the YIELD_VALUE; 3.13 the RESUME after it (a RESUME
    # past the first instruction follows a yield); 3.8-3.10 the instruction
    # before the YIELD_FROM, which runs again when the coroutine resumes
    return op in ("YIELD_VALUE", "YIELD_FROM", "SEND") or (op == "RESUME" and i > 0) \
        or F.opname_at(code, i + 2) == "YIELD_FROM"
