package tui_test

import (
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/pyreplay/pyreplay/internal/testutil"
	"github.com/pyreplay/pyreplay/recording"
)

// fixture is fixtures/tui/shop.json: a real recording of fixtures/tui/shop.py
// with times, paths and addresses normalised (see make_fixture.py).
type fixture struct {
	Runs []struct {
		ID       int64    `json:"id"`
		Program  string   `json:"program"`
		Argv     []string `json:"argv"`
		Cwd      string   `json:"cwd"`
		Python   string   `json:"python"`
		Version  string   `json:"version"`
		Started  float64  `json:"started"`
		Ended    float64  `json:"ended"`
		ExitCode int      `json:"exit_code"`
	} `json:"runs"`
	Snapshots []struct {
		ID           int64           `json:"id"`
		Run          int64           `json:"run"`
		Reason       string          `json:"reason"`
		Label        string          `json:"label"`
		File         string          `json:"file"`
		Line         int             `json:"line"`
		Function     string          `json:"function"`
		Time         float64         `json:"time"`
		StdoutBytes  int64           `json:"stdout_bytes"`
		StderrBytes  int64           `json:"stderr_bytes"`
		Frames       json.RawMessage `json:"frames"`
		Globals      json.RawMessage `json:"globals"`
		Placeholders json.RawMessage `json:"placeholders"`
		Meta         json.RawMessage `json:"meta"`
		Size         int64           `json:"size"`
	} `json:"snapshots"`
	Sources []struct {
		SHA256 string `json:"sha256"`
		Path   string `json:"path"`
		Text   string `json:"text"`
	} `json:"sources"`
}

func loadFixture(t testing.TB) *fixture {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testutil.Fixtures(), "tui", "shop.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f fixture
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	return &f
}

// writeRecording writes the fixture into a fresh recording and returns its path.
func writeRecording(t testing.TB, f *fixture) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "recording.db")
	st, err := recording.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tx, err := st.DB.Begin()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range f.Runs {
		argv, _ := json.Marshal(r.Argv)
		if _, err := tx.Exec(`INSERT INTO runs(id, program, argv, cwd, python, version, started, ended, exit_code) VALUES (?,?,?,?,?,?,?,?,?)`,
			r.ID, r.Program, string(argv), r.Cwd, r.Python, r.Version, r.Started, r.Ended, r.ExitCode); err != nil {
			t.Fatal(err)
		}
	}
	for i := range f.Snapshots {
		if err := insertSnapshot(tx, f, i); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range f.Sources {
		if _, err := tx.Exec(`INSERT INTO sources(sha256, path, text) VALUES (?,?,?)`, s.SHA256, s.Path, s.Text); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	return path
}

type execer interface {
	Exec(query string, args ...any) (sql.Result, error)
}

// insertSnapshot writes the fixture's i-th snapshot.
func insertSnapshot(db execer, f *fixture, i int) error {
	s := f.Snapshots[i]
	_, err := db.Exec(`INSERT INTO snapshots(id, run, reason, label, file, line, function, time, stdout_bytes, stderr_bytes, frames, globals, placeholders, meta, state, size)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		s.ID, s.Run, s.Reason, s.Label, s.File, s.Line, s.Function, s.Time, s.StdoutBytes, s.StderrBytes,
		string(s.Frames), string(s.Globals), string(s.Placeholders), string(s.Meta), []byte{}, s.Size)
	return err
}
