// Package recording is pyreplay's SQLite store: runs, snapshots and the
// source text of every file on a recorded stack. The Python shim writes
// snapshots into the same schema (schema.sql) with Python's sqlite3.
package recording

import (
	"database/sql"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	sqlite3 "github.com/mattn/go-sqlite3"

	"github.com/pyreplay/pyreplay/wire"
)

//go:embed schema.sql
var schemaSQL string

// ApplicationID marks a SQLite file as a pyreplay recording ("PyRp").
const ApplicationID = 0x50795270

// SchemaVersion is the schema this build reads and writes.
const SchemaVersion = 4

// PageSize is the SQLite page size of a new recording (see Create).
const PageSize = 4096

// DefaultPath is the recording used when neither --db nor PYREPLAY_DB is given.
const DefaultPath = ".pyreplay/recording.db"

// Store is an open recording.
type Store struct {
	DB   *sql.DB
	Path string
	// runs has the forked-run columns (schema 3; an older file that could
	// not be migrated has not)
	forkCols bool
	spawnCol bool // runs.spawned exists
}

// ErrNotRecording is returned for a file that is not a pyreplay recording.
var ErrNotRecording = errors.New("not a pyreplay recording")

// Resolve picks the recording path: the flag, then $PYREPLAY_DB, then the default.
func Resolve(flag string) string {
	if flag != "" {
		return flag
	}
	if env := os.Getenv("PYREPLAY_DB"); env != "" {
		return env
	}
	return DefaultPath
}

// dsn opens path without changing it: the journal mode (WAL) is set only
// once the file is known to be a pyreplay recording, so that pointing --db
// at some other SQLite file leaves that file exactly as it was.
func dsn(path string, readonly bool) string {
	q := "?_busy_timeout=30000&_synchronous=NORMAL"
	if readonly {
		q = "?_busy_timeout=30000&mode=ro"
	}
	return "file:" + path + q
}

// Create opens the recording at path for writing, creating it (and its
// directory) when missing. An existing file must be a pyreplay recording of
// a schema this build understands.
//
// Snapshots hold every local and the whole environment, so a recording is
// private: directories it creates are 0700 (and pyreplay's own .pyreplay
// directory is closed when an older version left it open), a file it
// creates is 0600, whatever the umask; SQLite gives the -wal and -shm files
// the database's mode.
func Create(path string) (*Store, error) {
	if err := privateDirs(filepath.Dir(path)); err != nil {
		return nil, err
	}
	fresh := false
	if st, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		fresh = true
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil && !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("cannot create the recording %s: %v", path, err)
		}
		if err == nil {
			_ = f.Chmod(0o600)
			f.Close()
		}
	} else if err == nil && st.Size() == 0 {
		fresh = true
	}
	db, err := sql.Open("sqlite3", dsn(path, false))
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	s := &Store{DB: db, Path: path}
	if fresh {
		// (64 kB pages write a 200 MB state in half the time, but every
		// small snapshot then logs 64 kB pages: kept at SQLite's default)
		if _, err := db.Exec(fmt.Sprintf("PRAGMA page_size=%d", PageSize)); err != nil {
			db.Close()
			return nil, describe(path, err)
		}
		if _, err := db.Exec(schemaSQL); err != nil {
			db.Close()
			return nil, describe(path, err)
		}
		if _, err := db.Exec(fmt.Sprintf("PRAGMA application_id=%d; PRAGMA user_version=%d; PRAGMA journal_mode=WAL", ApplicationID, SchemaVersion)); err != nil {
			db.Close()
			return nil, describe(path, err)
		}
		return s, nil
	}
	if err := s.check(); err != nil {
		db.Close()
		return nil, err
	}
	if _, err := db.Exec("PRAGMA journal_mode=WAL"); err != nil {
		db.Close()
		return nil, describe(path, err)
	}
	return s, nil
}

// privateDirs creates dir and its missing parents with mode 0700, and closes
// an existing .pyreplay directory of this user to others.
func privateDirs(dir string) error {
	if dir == "" || dir == "." {
		return nil
	}
	var missing []string
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil || !errors.Is(err, os.ErrNotExist) {
			break
		}
		missing = append(missing, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("cannot create the recording directory %s: %v", dir, err)
	}
	for _, d := range missing {
		_ = os.Chmod(d, 0o700)
	}
	if filepath.Base(dir) == ".pyreplay" {
		if st, err := os.Lstat(dir); err == nil && st.IsDir() && st.Mode().Perm()&0o077 != 0 && ownedByMe(st) {
			_ = os.Chmod(dir, 0o700)
		}
	}
	return nil
}

func ownedByMe(fi os.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && int(st.Uid) == os.Getuid()
}

// Open opens an existing recording for reading.
func Open(path string) (*Store, error) {
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("no recording at %s; record one with `pyreplay record PROG.py` or pass --db", path)
		}
		return nil, err
	}
	db, err := sql.Open("sqlite3", dsn(path, false))
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(4)
	s := &Store{DB: db, Path: path}
	if err := s.check(); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

func (s *Store) check() error {
	var app, ver int64
	if err := s.DB.QueryRow("PRAGMA application_id").Scan(&app); err != nil {
		return describe(s.Path, err)
	}
	if err := s.DB.QueryRow("PRAGMA user_version").Scan(&ver); err != nil {
		return describe(s.Path, err)
	}
	if app != ApplicationID {
		return fmt.Errorf("%s is %w (it is some other SQLite file); pass the right --db", s.Path, ErrNotRecording)
	}
	if ver > SchemaVersion {
		return fmt.Errorf("%s was written by a newer pyreplay (schema %d, this one reads up to %d); upgrade pyreplay", s.Path, ver, SchemaVersion)
	}
	if ver < SchemaVersion {
		s.migrate(ver)
	}
	var n int
	_ = s.DB.QueryRow(`SELECT count(*) FROM pragma_table_info('runs') WHERE name='fork_of'`).Scan(&n)
	s.forkCols = n > 0
	if s.forkCols {
		// (added within schema 4: spawned Python children's runs)
		_ = s.DB.QueryRow(`SELECT count(*) FROM pragma_table_info('runs') WHERE name='spawned'`).Scan(&n)
		if n == 0 {
			_, _ = s.DB.Exec(`ALTER TABLE runs ADD COLUMN spawned INTEGER`)
			_ = s.DB.QueryRow(`SELECT count(*) FROM pragma_table_info('runs') WHERE name='spawned'`).Scan(&n)
		}
		s.spawnCol = n > 0
	}
	// (added within schema 4: the inputs table; every statement of the
	// schema is IF NOT EXISTS. A file that cannot be written goes without:
	// its runs' outside inputs are then unknown in re-executions)
	_ = s.DB.QueryRow(`SELECT count(*) FROM sqlite_master WHERE name='inputs'`).Scan(&n)
	if n == 0 {
		_, _ = s.DB.Exec(schemaSQL)
	}
	return nil
}

// migrate brings an older recording to this version: version 2 added the
// MAC columns, empty (its snapshots are unsigned until `pyreplay trust`);
// version 3 the state_chunks table (large states) and the forked-run
// columns; version 4 the snapshot_images table (CRIU images). A file
// that cannot be written stays as it is; reading it treats every snapshot
// as unsigned and without an image.
func (s *Store) migrate(from int64) {
	var steps []string
	if from < 2 {
		steps = append(steps,
			"ALTER TABLE snapshots ADD COLUMN state_mac TEXT NOT NULL DEFAULT ''",
			"ALTER TABLE snapshots ADD COLUMN key_id TEXT NOT NULL DEFAULT ''",
			"ALTER TABLE sources ADD COLUMN mac TEXT NOT NULL DEFAULT ''",
			"ALTER TABLE sources ADD COLUMN key_id TEXT NOT NULL DEFAULT ''")
	}
	if from < 3 {
		steps = append(steps,
			"ALTER TABLE runs ADD COLUMN fork_of INTEGER",
			"ALTER TABLE runs ADD COLUMN pid INTEGER")
	}
	if from < 4 {
		steps = append(steps, schemaSQL) // (its CREATE ... IF NOT EXISTS make what is missing: state_chunks, snapshot_images)
	}
	for _, q := range steps {
		if _, err := s.DB.Exec(q); err != nil && !strings.Contains(err.Error(), "duplicate column") {
			return
		}
	}
	_, _ = s.DB.Exec(fmt.Sprintf("PRAGMA user_version=%d", SchemaVersion))
}

func describe(path string, err error) error {
	var se sqlite3.Error
	if errors.As(err, &se) && (se.Code == sqlite3.ErrNotADB || se.Code == sqlite3.ErrCorrupt) {
		return fmt.Errorf("%s is %w (the file is not a SQLite database or is damaged)", path, ErrNotRecording)
	}
	return fmt.Errorf("%s: %v", path, err)
}

// Close closes the store.
func (s *Store) Close() error { return s.DB.Close() }

// Run is one execution of a program (fresh or resumed).
type Run struct {
	ID       int64    `json:"id"`
	Parent   *int64   `json:"parent,omitempty"`
	Program  string   `json:"program"`
	Argv     []string `json:"argv"`
	Cwd      string   `json:"cwd"`
	Python   string   `json:"python"`
	Version  string   `json:"version"`
	Started  float64  `json:"started"`
	Ended    *float64 `json:"ended,omitempty"`
	ExitCode *int     `json:"exit_code,omitempty"`
}

// NewRun inserts a run and returns its id.
func (s *Store) NewRun(parent *int64, program string, argv []string, cwd, python string) (int64, error) {
	a, _ := json.Marshal(argv)
	res, err := s.DB.Exec(`INSERT INTO runs(parent, program, argv, cwd, python, started) VALUES (?,?,?,?,?,?)`,
		parent, program, string(a), cwd, python, now())
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

// EndRun records the exit of a run.
func (s *Store) EndRun(id int64, exitCode int) error {
	_, err := s.DB.Exec(`UPDATE runs SET ended=?, exit_code=? WHERE id=?`, now(), exitCode, id)
	return err
}

func now() float64 { return float64(time.Now().UnixNano()) / 1e9 }

// GetRun reads one run.
func (s *Store) GetRun(id int64) (*Run, error) {
	var r Run
	var argv string
	var parent sql.NullInt64
	var ended sql.NullFloat64
	var code sql.NullInt64
	err := s.DB.QueryRow(`SELECT id, parent, program, argv, cwd, python, version, started, ended, exit_code FROM runs WHERE id=?`, id).
		Scan(&r.ID, &parent, &r.Program, &argv, &r.Cwd, &r.Python, &r.Version, &r.Started, &ended, &code)
	if err != nil {
		return nil, err
	}
	_ = json.Unmarshal([]byte(argv), &r.Argv)
	if parent.Valid {
		r.Parent = &parent.Int64
	}
	if ended.Valid {
		r.Ended = &ended.Float64
	}
	if code.Valid {
		c := int(code.Int64)
		r.ExitCode = &c
	}
	return &r, nil
}

// summaryCols coerces every column to the type it is read into: SQLite
// keeps whatever a row was given (an edited or damaged recording may hold
// text in line), and one such row must not make the whole recording
// unreadable. A value that is no number reads as 0.
const summaryCols = `s.id, s.run, COALESCE(CAST(s.reason AS TEXT), ''), COALESCE(CAST(s.label AS TEXT), ''),
	COALESCE(CAST(s.file AS TEXT), ''), COALESCE(CAST(s.line AS INTEGER), 0), COALESCE(CAST(s.function AS TEXT), ''),
	COALESCE(CAST(s.time AS REAL), 0), COALESCE(CAST(r.version AS TEXT), ''), COALESCE(CAST(s.stdout_bytes AS INTEGER), 0),
	COALESCE(CAST(s.stderr_bytes AS INTEGER), 0), COALESCE(CAST(s.size AS INTEGER), 0)`

// cols is summaryCols and the run's fork columns (NULL when it has none).
func (s *Store) cols() string {
	switch {
	case s.spawnCol:
		return summaryCols + `, r.fork_of, r.pid, r.spawned`
	case s.forkCols:
		return summaryCols + `, r.fork_of, r.pid, NULL`
	}
	return summaryCols + `, NULL, NULL, NULL`
}

// scanSummary scans cols() and then more.
func scanSummary(sc interface{ Scan(...any) error }, more ...any) (wire.Summary, error) {
	var m wire.Summary
	var fork, pid, spawned sql.NullInt64
	err := sc.Scan(append([]any{&m.N, &m.Run, &m.Reason, &m.Label, &m.File, &m.Line, &m.Function, &m.Time, &m.Python,
		&m.StdoutBytes, &m.StderrBytes, &m.Size, &fork, &pid, &spawned}, more...)...)
	m.Spawned = spawned.Valid && spawned.Int64 == 1
	m.ID = SnapID(m.N)
	if fork.Valid {
		m.ForkOf = &fork.Int64
	}
	if pid.Valid {
		m.Pid = &pid.Int64
	}
	return m, err
}

// List returns every snapshot, oldest first. run > 0 restricts to one run.
func (s *Store) List(run int64) ([]wire.Summary, error) {
	q := `SELECT ` + s.cols() + ` FROM snapshots s JOIN runs r ON r.id = s.run`
	var args []any
	if run > 0 {
		q += ` WHERE s.run = ?`
		args = append(args, run)
	}
	q += ` ORDER BY s.id`
	rows, err := s.DB.Query(q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []wire.Summary{}
	for rows.Next() {
		m, err := scanSummary(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// SnapID formats a snapshot number.
func SnapID(n int64) string { return "snap-" + strconv.FormatInt(n, 10) }

// ParseSnapID accepts "snap-N" or "N".
func ParseSnapID(s string) (int64, error) {
	t := strings.TrimPrefix(strings.TrimSpace(s), "snap-")
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q is not a snapshot id (expected snap-N or N; `pyreplay ls` lists them)", s)
	}
	return n, nil
}

// ErrNoSnapshot is returned for an unknown snapshot id.
var ErrNoSnapshot = errors.New("no such snapshot")

// Get reads one snapshot (without state).
func (s *Store) Get(n int64) (*wire.Snapshot, error) {
	row := s.DB.QueryRow(`SELECT `+s.cols()+`, s.frames, s.globals, s.placeholders, s.meta FROM snapshots s JOIN runs r ON r.id = s.run WHERE s.id = ?`, n)
	var snap wire.Snapshot
	var frames, globals, ph, meta string
	var err error
	snap.Summary, err = scanSummary(row, &frames, &globals, &ph, &meta)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%s: %w in %s (`pyreplay ls` lists them)", SnapID(n), ErrNoSnapshot, s.Path)
	}
	if err != nil {
		return nil, err
	}
	snap.ID = SnapID(n)
	if err := json.Unmarshal([]byte(frames), &snap.Frames); err != nil {
		return nil, fmt.Errorf("%s: damaged frame data: %v", snap.ID, err)
	}
	for i := range snap.Frames {
		snap.Frames[i].HasStack = snap.Frames[i].Stack != nil
	}
	_ = json.Unmarshal([]byte(globals), &snap.Globals)
	_ = json.Unmarshal([]byte(ph), &snap.Placeholders)
	_ = json.Unmarshal([]byte(meta), &snap.Meta)
	if snap.Placeholders == nil {
		snap.Placeholders = []wire.Placeholder{}
	}
	return &snap, nil
}

// State returns the pickled state of a snapshot: its state column followed
// by its state_chunks (pyshim/pyreplay_shim/store.py).
func (s *Store) State(n int64) ([]byte, error) {
	var b []byte
	err := s.DB.QueryRow(`SELECT state FROM snapshots WHERE id=?`, n).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%s: %w", SnapID(n), ErrNoSnapshot)
	}
	if err != nil {
		return nil, err
	}
	err = s.chunks(s.DB, n, func(c []byte) { b = append(b, c...) })
	return b, err
}

type querier interface {
	Query(q string, args ...any) (*sql.Rows, error)
}

// chunks calls f with each chunk of snapshot n's state after the first
// segment, in order (none in a recording older than schema version 3).
func (s *Store) chunks(db querier, n int64, f func([]byte)) error {
	rows, err := db.Query(`SELECT data FROM state_chunks WHERE snap=? ORDER BY seq`, n)
	if err != nil {
		if strings.Contains(err.Error(), "no such table") {
			return nil
		}
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var c []byte
		if err := rows.Scan(&c); err != nil {
			return err
		}
		f(c)
	}
	return rows.Err()
}

// Source returns the recorded text of a file by its sha256.
func (s *Store) Source(sha string) (string, error) {
	var t string
	err := s.DB.QueryRow(`SELECT text FROM sources WHERE sha256=?`, sha).Scan(&t)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("the recording holds no source with sha256 %s", sha)
	}
	return t, err
}

// DropRun deletes a run and its snapshots (a re-execution for line
// history, which keeps nothing).
func (s *Store) DropRun(id int64) error {
	if _, err := s.DB.Exec(`DELETE FROM snapshots WHERE run=?`, id); err != nil {
		return err
	}
	_, _ = s.DB.Exec(`DELETE FROM inputs WHERE run=?`, id) // (no such table: a recording made before it)
	_, err := s.DB.Exec(`DELETE FROM runs WHERE id=?`, id)
	return err
}

// SourcePath returns the path a recorded source was read from.
func (s *Store) SourcePath(sha string) (string, error) {
	var p string
	err := s.DB.QueryRow(`SELECT path FROM sources WHERE sha256=?`, sha).Scan(&p)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("the recording holds no source with sha256 %s", sha)
	}
	return p, err
}

// RunSnapshots returns the first and last snapshot ids of a run and their count.
func (s *Store) RunSnapshots(run int64) (first, last, count int64, err error) {
	var f, l sql.NullInt64
	err = s.DB.QueryRow(`SELECT MIN(id), MAX(id), COUNT(*) FROM snapshots WHERE run=?`, run).Scan(&f, &l, &count)
	return f.Int64, l.Int64, count, err
}

// Checkpointer copies the write-ahead log of the recording at path into
// the database every interval, in a connection of its own, until stop is
// called: a snapshot's writer (the shim) leaves a large state's copy to it
// rather than making the program wait for it (PASSIVE: it never blocks a
// writer or a reader).
func Checkpointer(path string, every time.Duration) (stop func()) {
	if st, err := os.Stat(path); err != nil || !st.Mode().IsRegular() {
		return func() {}
	}
	db, err := sql.Open("sqlite3", dsn(path, false))
	if err != nil {
		return func() {}
	}
	db.SetMaxOpenConns(1)
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				_, _ = db.Exec("PRAGMA wal_checkpoint(PASSIVE)")
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(done)
			<-finished
			db.Close()
		})
	}
}
