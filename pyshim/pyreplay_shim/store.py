"""Writing a snapshot's pickled state to the recording, and reading it back.

A snapshot's cost is bounded by what it stores. The pickler writes into a
Segments file: small writes are gathered in one buffer, and every large
payload (a bytes or bytearray of BIG bytes or more, or the UTF-8 of a
large str) that pickle hands to the file whole is kept by reference, not
copied. The state is then the concatenation of those segments: the first
goes into snapshots.state, the rest into state_chunks (schema version 3)
in rows of at most CHUNK bytes, so that neither SQLite's copies of a bound
value nor its record buffer ever hold more than one chunk. The MAC is the
same HMAC over the whole stream (signing.py), updated piece by piece; for
a large state it is computed by a second thread while the rows are
written (both release the GIL).

A large state of immutable pieces is written after the program goes on
(write_snapshot(defer=True)): the program waits for what a snapshot must
see (views, the pickled state by reference), a thread of the shim's own
writes it, and every later use of the connection waits for that write
first (wait(): Recorder._db, a fork, the end of the program's main code).
"""
import io
import os
import posix
import time

from . import signing
from .inputs import real

_wall = real(time.time)  # (the shim's own clock: not a recorded input)

BIG = 1 << 20     # a payload at least this long is kept by reference
CHUNK = 1 << 20   # bytes per state_chunks row
PARALLEL = 16 << 20  # MAC in a second thread from this much chunked state on


class Segments:
    """A write-only file for the pickler (see the module comment)."""

    def __init__(self):
        self.parts = []
        self.buf = io.BytesIO()
        self.size = 0

    def write(self, b):
        n = len(b)
        self.size += n
        t = type(b)
        if n >= BIG and (t is bytes or t is bytearray):
            self._cut()
            self.parts.append(b)
        else:
            self.buf.write(b)
        return n

    def _cut(self):
        if self.buf.tell():
            # the buffer itself, not a copy of it
            self.parts.append(self.buf.getbuffer())
            self.buf = io.BytesIO()

    def finish(self):
        """The segments, in order; the first is a buffer of its own (maybe empty)."""
        self._cut()
        if not self.parts or len(self.parts[0]) >= BIG:
            self.parts.insert(0, b"")
        return self.parts


def pieces(parts):
    """The chunk rows after the first segment: (bytes-like) each at most
    CHUNK long. A program's bytearray is copied one chunk at a time: holding
    a view of it while the GIL is released (hashing, writing) would make
    another thread's resize of it fail."""
    for p in parts:
        mutable = type(p) is bytearray
        mv = p if mutable else memoryview(p)
        for i in range(0, len(p), CHUNK):
            yield mv[i:i + CHUNK]


def next_snapshot_id(db):
    """The id the next snapshot row gets (inside the write transaction)."""
    row = db.execute("SELECT max(COALESCE((SELECT seq FROM sqlite_sequence WHERE name='snapshots'), 0),"
                     " COALESCE((SELECT max(id) FROM snapshots), 0)) + 1").fetchone()
    return row[0]


def write_chunks(db, sid, parts, mac):
    """Insert the chunk rows of snapshot sid, updating mac (an hmac object
    already fed everything before the state's later segments) with each;
    returns mac. Hashing runs in a second thread when the chunks are large."""
    feed, finish = mac.update, None
    if sum(len(p) for p in parts) >= PARALLEL:
        feed, finish = _hasher(mac) or (feed, None)
    try:
        for seq, c in enumerate(pieces(parts), 1):
            feed(c)
            db.execute("INSERT INTO state_chunks(snap, seq, data) VALUES (?,?,?)", (sid, seq, c))
    finally:
        if finish is not None:
            finish()
    return mac


def _hasher(mac):
    """A thread that feeds mac the chunks given to feed(c); finish() waits
    for it and raises its error. None when no thread can start (3.12+
    while the interpreter finalises: a snapshot in an atexit function)."""
    import _queue
    import _thread
    q = _queue.SimpleQueue()
    done = _thread.allocate_lock()
    done.acquire()
    err = []

    def run():
        try:
            while True:
                c = q.get()
                if c is None:
                    break
                mac.update(c)
        except BaseException as e:  # noqa: BLE001 - raised by finish()
            err.append(e)
        finally:
            done.release()

    try:
        _thread.start_new_thread(run, ())
    except RuntimeError:
        return None

    def finish():
        q.put(None)
        done.acquire()
        if err:
            raise err[0]

    return q.put, finish


class ChunkReader(io.RawIOBase):
    """The state as one stream over its segments, each dropped once read."""

    def __init__(self, parts):
        super().__init__()
        self.parts = [memoryview(p) for p in parts]
        self.parts.reverse()
        self.pos = 0

    def readable(self):
        return True

    def readinto(self, b):
        out = memoryview(b).cast("B")
        n = 0
        while n < len(out) and self.parts:
            cur = self.parts[-1]
            k = min(len(out) - n, len(cur) - self.pos)
            out[n:n + k] = cur[self.pos:self.pos + k]
            n += k
            self.pos += k
            if self.pos >= len(cur):
                self.parts.pop()
                self.pos = 0
        return n


def stream(parts):
    """A file to unpickle the state from."""
    if len(parts) == 1:
        return io.BytesIO(parts[0])
    return io.BufferedReader(ChunkReader(parts), 1 << 16)


# the recorder whose periodic snapshots were written since the last
# _prune, and how many: pruning (five queries, ~1 ms, half an anchor's
# write) runs once per PRUNE_BATCH of them, at the next snapshot that is
# not periodic (a stop: what a live session reads then is pruned) and
# when the program ends (finish); meanwhile at most PRUNE_BATCH more are
# kept than the bounds say
PRUNE_BATCH = 8
_unpruned = [None, 0]
_inflight = []  # the deferred write running: [(done lock, [its error])]
_ending = []  # set by finish(): every later write is made at once


def deferrable(parts):
    """Whether a state may be written after the program goes on: large
    enough to matter, and made of pieces the program cannot change (a
    bytearray of the program's is written while it waits, one chunk copied
    at a time: see pieces)."""
    rest = parts[1:]
    return sum(len(p) for p in rest) >= PARALLEL and not any(type(p) is bytearray for p in rest)


def wait():
    """Wait for the deferred write (if one runs); its failure is reported
    on pyreplay's stderr line (fd 2, outside the program's stream counts)."""
    while _inflight:
        done, err = _inflight.pop()
        done.acquire()
        if err:
            os.write(2, ("pyreplay: a snapshot could not be recorded: %s\n" % (err[0],)).encode())


def finish():
    """The program's main code has ended: the pending write first, and
    every later snapshot (in atexit functions, while the interpreter
    finalises and its threads stop) written at once."""
    _ending.append(True)
    wait()
    rec = _unpruned[0]
    if rec is not None and _unpruned[1]:
        _unpruned[1] = 0
        try:
            db = rec._db()
            db.execute("BEGIN IMMEDIATE")
            try:
                _prune(db, rec)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        except Exception:  # noqa: BLE001 - the program's exit comes first (a few anchors more kept)
            pass


def write_snapshot(db, rec, row, parts, sources, defer=False, inputs=None):
    """Write one snapshot (see _write): now, or with defer on a thread of
    the shim's own (a _thread, which the program's threading.enumerate()
    does not list) while the program goes on. Returns (snapshot id or None
    when deferred, the sources it stores)."""
    wait()
    if not defer or _ending:
        return _write(db, rec, row, parts, sources, inputs)
    import _thread
    done = _thread.allocate_lock()
    done.acquire()
    err = []

    def writer():
        try:
            _write(db, rec, row, parts, sources, inputs)
        except BaseException as e:  # noqa: BLE001 - reported by wait()
            err.append(e)
            rec.unstore([sha for sha, _fn in sources])
        finally:
            done.release()

    try:
        _thread.start_new_thread(writer, ())
    except RuntimeError:  # no new thread now (the interpreter finalises)
        return _write(db, rec, row, parts, sources, inputs)
    _inflight.append((done, err))
    return None, [sha for sha, _fn in sources]


def _write(db, rec, row, parts, sources, inputs=None):
    """Write one snapshot in one transaction: the sources it is the first to
    need ((sha256, path) each), its row (run, reason, label, file, line,
    function, time, stdout_bytes, stderr_bytes, frames, globals,
    placeholders, meta) and its state (parts: Segments.finish()); prune the
    run's periodic snapshots beyond rec.max_periodic (_prune, once per
    PRUNE_BATCH of them). Returns
    (snapshot id, the sources stored)."""
    fj, gj, pj, mj = row[9:13]
    first, rest = parts[0], parts[1:]
    size = sum(len(p) for p in parts) + len(fj) + len(gj)
    mac = signing.snapshot_mac(rec.key, fj, mj, pj, first)
    db.execute("BEGIN IMMEDIATE")
    stored = []
    big = sum(len(p) for p in rest) >= PARALLEL
    try:
        for sha, fn in sources:
            text = rec.source(fn)[1]
            # (re)signed with this user's key: the row may come from
            # another user's run appended to the same recording
            db.execute("INSERT INTO sources(sha256, path, text, mac, key_id) VALUES (?,?,?,?,?)"
                       " ON CONFLICT(sha256) DO UPDATE SET text=excluded.text, mac=excluded.mac,"
                       " key_id=excluded.key_id",
                       (sha, fn, text, signing.source_mac(rec.key, sha, text), rec.key_id))
            stored.append(sha)
        sid = None
        if rest:
            sid = next_snapshot_id(db)
            write_chunks(db, sid, rest, mac)
        cur = db.execute(
            "INSERT INTO snapshots(id, run, reason, label, file, line, function, time, stdout_bytes,"
            " stderr_bytes, frames, globals, placeholders, meta, state, size, state_mac, key_id)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (sid,) + tuple(row) + (first, size, mac.hexdigest(), rec.key_id))
        sid = cur.lastrowid
        if inputs is not None:
            _write_inputs(db, rec, sid, inputs)
        if rec.max_periodic > 0:
            if row[1] == "periodic":
                _unpruned[0], _unpruned[1] = rec, _unpruned[1] + 1
            if _unpruned[1] >= PRUNE_BATCH or (row[1] != "periodic" and _unpruned[1]):
                _prune(db, rec)
                _unpruned[1] = 0
        if big:
            # copying this much from the write-ahead log into the database
            # is left to pyreplay's checkpointer (recording.Checkpointer),
            # not done here while the program waits
            db.execute("PRAGMA wal_autocheckpoint=0")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    finally:
        if big:
            db.execute("PRAGMA wal_autocheckpoint=1000")
    return sid, stored


def _write_inputs(db, rec, sid, inputs):
    """An interval of outside inputs (inputs.take), ended by snapshot sid."""
    import sqlite3
    log_id, first, upto, data, gap = inputs
    try:
        db.execute("INSERT INTO inputs(log, run, snap, first, upto, data, gap, mac, key_id) VALUES (?,?,?,?,?,?,?,?,?)",
                   (log_id, rec.run, sid, first, upto, data, gap,
                    signing.inputs_mac(rec.key, log_id, first, upto, data, gap), rec.key_id))
    except sqlite3.OperationalError:  # (a recording without the table: not recorded, so unknown)
        pass


def _prune(db, rec):
    """The run's periodic snapshots beyond the newest rec.max_periodic go,
    but for, older than those, the tiers of rec.thin_periodic (each keeps
    one per `every` seconds of the run, the newest `keep` such), and those
    taken more than rec.history_span seconds before the newest; then the
    oldest while they store more than rec.history_size in all (the newest
    stays). With rec.history_bound (time travel's anchors), once the
    oldest of them goes, so does the run's anchor at the program's first
    line: the history no longer reaches back to it (launch/anchors.go)."""
    periodic = "FROM snapshots WHERE run=? AND reason='periodic'"
    oldest = db.execute("SELECT MIN(id) " + periodic, (rec.run,)).fetchone()[0]
    sql = "DELETE " + periodic + " AND id NOT IN (SELECT id " + periodic + " ORDER BY id DESC LIMIT ?)"
    args = (rec.run, rec.run, rec.max_periodic)
    for tier in rec.thin_periodic:
        sql += (" AND id NOT IN (SELECT MIN(id) " + periodic +
                " GROUP BY CAST(time / ? AS INTEGER) ORDER BY MIN(id) DESC LIMIT ?)")
        args += (rec.run, tier["every"], tier["keep"])
    db.execute(sql, args)
    if rec.history_span > 0:
        # (by time too: the budget may space anchors wider than their
        # interval, and the tiers count them; the newest stays)
        db.execute("DELETE " + periodic + " AND time < (SELECT MAX(time) " + periodic + ") - ?",
                   (rec.run, rec.run, rec.history_span))
    if rec.history_size > 0:
        rows = db.execute("SELECT id, size " + periodic + " ORDER BY id DESC", (rec.run,)).fetchall()
        total, drop = 0, []
        for k, (sid, size) in enumerate(rows):
            total += size or 0
            if k > 0 and total > rec.history_size:  # (the newest stays, whatever its size)
                drop.append(sid)
        if drop:
            db.execute("DELETE FROM snapshots WHERE id IN (%s)" % ",".join("?" * len(drop)), drop)
    # outside inputs before the oldest snapshot kept: no re-execution reads them
    import sqlite3
    try:
        db.execute("DELETE FROM inputs WHERE run=? AND snap<=(SELECT MIN(id) FROM snapshots WHERE run=?)",
                   (rec.run, rec.run))
    except sqlite3.OperationalError:
        pass
    if rec.history_bound and oldest is not None:
        now = db.execute("SELECT MIN(id) " + periodic, (rec.run,)).fetchone()[0]
        if now != oldest:
            db.execute("DELETE FROM snapshots WHERE run=? AND reason='entry' AND label='anchor'", (rec.run,))


def fork_run(db, run):
    """A run for a forked child of run's process: the same program, marked
    as forked from run, with the child's pid; returns its id (run itself
    when the recording cannot say so)."""
    import json
    import os
    import sys
    try:
        cur = db.execute(
            "INSERT INTO runs(parent, program, argv, cwd, python, version, started, fork_of, pid)"
            " SELECT NULL, program, ?, ?, ?, ?, ?, id, ? FROM runs WHERE id=?",
            (json.dumps(sys.argv), os.getcwd(), sys.executable, "%d.%d.%d" % sys.version_info[:3],
             _wall(), posix.getpid(), run))
    except Exception:  # noqa: BLE001 - a recording older than schema 3
        return run
    return cur.lastrowid or run


def child_run(cfg):
    """The run of a Python child process (children.py): the program its
    config names, linked to the run that started it (fork_of, spawned);
    returns its id."""
    import json
    import sqlite3
    import sys
    db = sqlite3.connect(cfg["db"], timeout=30, isolation_level=None)
    try:
        program = cfg.get("program") or ("-m " + cfg["module"] if cfg.get("module") else "-c " + cfg.get("code", ""))
        cur = db.execute(
            "INSERT INTO runs(parent, program, argv, cwd, python, version, started, fork_of, pid, spawned)"
            " VALUES (NULL, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
            (program, json.dumps(sys.argv[1:]), os.getcwd(), sys.executable, "%d.%d.%d" % sys.version_info[:3],
             _wall(), cfg["child_of"], posix.getpid()))
        return cur.lastrowid
    finally:
        db.close()


def end_run(db_path, run, code):
    """How a child's run ended (pyreplay records its own runs' ends)."""
    import sqlite3
    db = sqlite3.connect(db_path, timeout=30, isolation_level=None)
    try:
        db.execute("UPDATE runs SET ended=?, exit_code=? WHERE id=?", (_wall(), code, run))
    finally:
        db.close()


def read_state(db_path, snap, key):
    """A file to unpickle the state of snap-N from, after its signature
    checks out. The state is snapshots.state followed by the snapshot's
    state_chunks (below); all of it is read, in one read transaction,
    before it is checked, and what is checked is what is loaded."""
    import hmac
    import sqlite3
    db = sqlite3.connect("file:%s?mode=ro" % db_path, uri=True, timeout=30, isolation_level=None)
    try:
        db.execute("BEGIN")
        row = db.execute("SELECT frames, meta, placeholders, state, state_mac, key_id FROM snapshots WHERE id=?",
                         (snap,)).fetchone()
        chunks = []
        if row is not None and db.execute("SELECT 1 FROM sqlite_master WHERE name='state_chunks'").fetchone():
            chunks = [c for (c,) in db.execute("SELECT data FROM state_chunks WHERE snap=? ORDER BY seq", (snap,))]
        db.execute("COMMIT")
    finally:
        db.close()
    if row is None:
        raise RuntimeError("snap-%d is not in the recording" % snap)
    frames, meta, ph, state, mac, kid = row
    ok = bool(key) and kid == signing.key_id(key)
    if ok:
        m = signing.snapshot_mac(key, frames, meta, ph, state)
        for c in chunks:
            m.update(c)
        ok = hmac.compare_digest(mac, m.hexdigest())
    if not ok:
        raise signing.Untrusted("snap-%d is not signed with your pyreplay key (or changed since); nothing of it was loaded" % snap)
    return stream([state] + chunks)
