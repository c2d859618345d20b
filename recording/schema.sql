-- pyreplay recording, schema version 2 (2 added the MAC columns; recording.migrate
-- adds them to a version 1 file).
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
    exit_code   INTEGER               -- exit code, or -N when signal N ended the program; NULL: it never ended (pyreplay was killed)
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
    state        BLOB NOT NULL,       -- pickle stream (see pyshim/pyreplay_shim/state.py)
    size         INTEGER NOT NULL,    -- bytes of state + views
    state_mac    TEXT NOT NULL DEFAULT '',  -- HMAC-SHA256 of frames, meta, placeholders and state (internal/trust)
    key_id       TEXT NOT NULL DEFAULT ''   -- which key made state_mac (trust.KeyID)
);
CREATE INDEX IF NOT EXISTS snapshots_run ON snapshots(run, id);
CREATE TABLE IF NOT EXISTS sources (
    sha256 TEXT PRIMARY KEY,
    path   TEXT NOT NULL,
    text   TEXT NOT NULL,
    mac    TEXT NOT NULL DEFAULT '',  -- HMAC-SHA256 of sha256 and text (internal/trust)
    key_id TEXT NOT NULL DEFAULT ''
);
