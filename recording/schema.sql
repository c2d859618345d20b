-- pyreplay recording, schema version 4 (2 added the MAC columns, 3 state_chunks and
-- runs.fork_of, 4 snapshot_images; recording.migrate brings an older file up to date).
-- Written by the Go side (runs) and by the Python shim (snapshots, sources).
-- PRAGMA application_id and user_version are set by recording.Create.
CREATE TABLE IF NOT EXISTS runs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    parent      INTEGER,              -- snapshot id this run was resumed from, NULL for a fresh run
    program     TEXT NOT NULL,        -- script path as given, or "-m module"
    argv        TEXT NOT NULL,        -- JSON array, the program's sys.argv
    cwd         TEXT NOT NULL,
    python      TEXT NOT NULL DEFAULT '',   -- interpreter path
    version     TEXT NOT NULL DEFAULT '',   -- e.g. "3.11.7"
    started     REAL NOT NULL,        -- unix time
    ended       REAL,
    exit_code   INTEGER,              -- exit code, or -N when signal N ended the program; NULL: it never ended (pyreplay was killed)
    fork_of     INTEGER,              -- the run whose process started this one (os.fork, or a spawned Python child), NULL otherwise
    pid         INTEGER,              -- the child's process id (set with fork_of)
    spawned     INTEGER               -- 1: a Python child the run fork_of started (subprocess, multiprocessing spawn), not a fork
);
CREATE TABLE IF NOT EXISTS snapshots (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,   -- snap-N
    run          INTEGER NOT NULL REFERENCES runs(id),
    reason       TEXT NOT NULL,       -- breakpoint | function | exception | request | periodic | step | entry
    label        TEXT NOT NULL DEFAULT '',
    file         TEXT NOT NULL,       -- innermost frame of the program's own code
    line         INTEGER NOT NULL,
    function     TEXT NOT NULL,
    time         REAL NOT NULL,
    stdout_bytes INTEGER NOT NULL,
    stderr_bytes INTEGER NOT NULL,
    frames       TEXT NOT NULL,       -- JSON: bounded view of the stack, outermost first (see recording/view.go)
    globals      TEXT NOT NULL,       -- JSON: {module: {name: value view}}
    placeholders TEXT NOT NULL,       -- JSON: [{where, type, repr}] values that could not be saved
    meta         TEXT NOT NULL,       -- JSON: interpreter facts the resume needs (version, layout, exc info)
    state        BLOB NOT NULL,       -- pickle stream (see pyshim/pyreplay_shim/state.py), its first segment
                                      -- when state_chunks holds the rest (pyshim/pyreplay_shim/store.py)
    size         INTEGER NOT NULL,    -- bytes of state (chunks included) + views
    state_mac    TEXT NOT NULL DEFAULT '',  -- HMAC-SHA256 of frames, meta, placeholders and the whole state (internal/trust)
    key_id       TEXT NOT NULL DEFAULT ''   -- which key made state_mac (trust.KeyID)
);
CREATE INDEX IF NOT EXISTS snapshots_run ON snapshots(run, id);
-- The rest of a large state, in rows of at most 1 MiB: the state is
-- snapshots.state followed by its chunks in seq order. Large values are
-- stored without a copy of them in memory (store.py).
CREATE TABLE IF NOT EXISTS state_chunks (
    snap INTEGER NOT NULL,            -- snapshots.id
    seq  INTEGER NOT NULL,            -- 1, 2, ...
    data BLOB NOT NULL,
    PRIMARY KEY (snap, seq)
);
CREATE TRIGGER IF NOT EXISTS state_chunks_pruned AFTER DELETE ON snapshots
BEGIN
    DELETE FROM state_chunks WHERE snap = old.id;
END;
-- What a run read from outside itself (clocks, process ids, random bytes),
-- recorded with time travel's anchors and given back to re-executions of
-- its past (pyshim/pyreplay_shim/inputs.py): one row per interval between
-- two snapshots, written with the snapshot that ends it; pruned with them.
CREATE TABLE IF NOT EXISTS inputs (
    log    TEXT NOT NULL,             -- the log's id (a process's run; snapshots' state names it)
    run    INTEGER NOT NULL,
    snap   INTEGER NOT NULL,          -- the snapshot that ends the interval
    first  INTEGER NOT NULL,          -- index of its first note
    upto   INTEGER NOT NULL,          -- the ending snapshot's own index
    data   TEXT NOT NULL,             -- JSON: [[index, thread, kind, value], ...]
    gap    INTEGER,                   -- the first index not noted (too many in the interval), NULL: none
    mac    TEXT NOT NULL,             -- HMAC-SHA256 of log, first, upto, data, gap (internal/trust)
    key_id TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS inputs_log ON inputs(log, upto);
CREATE TABLE IF NOT EXISTS sources (
    sha256 TEXT PRIMARY KEY,
    path   TEXT NOT NULL,
    text   TEXT NOT NULL,
    mac    TEXT NOT NULL DEFAULT '',  -- HMAC-SHA256 of sha256 and text (internal/trust)
    key_id TEXT NOT NULL DEFAULT ''
);
-- The CRIU image of a snapshot (pyreplay record --criu; checkpoint package):
-- a directory beside the recording, or why none could be taken. Written by
-- Go while the shim waits (its connection closed); gone with its snapshot.
CREATE TABLE IF NOT EXISTS snapshot_images (
    snap    INTEGER PRIMARY KEY,      -- snapshots.id
    dir     TEXT NOT NULL DEFAULT '', -- image directory, relative to the recording's directory ('' when the dump failed)
    took_ms INTEGER NOT NULL DEFAULT 0,  -- criu dump time (the program was frozen about this long)
    size    INTEGER NOT NULL DEFAULT 0,  -- bytes of the image
    error   TEXT NOT NULL DEFAULT ''  -- why the dump failed, one line
);
CREATE TRIGGER IF NOT EXISTS snapshot_images_pruned AFTER DELETE ON snapshots
BEGIN
    DELETE FROM snapshot_images WHERE snap = old.id;
END;
