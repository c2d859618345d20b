package testutil

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"strings"
	"testing"

	_ "github.com/mattn/go-sqlite3" // the recording's SQLite driver

	"github.com/pyreplay/pyreplay/wire"
)

// Strict decodes b into v with unknown fields disallowed: a field the shim
// writes without a Go field (or a Go field renamed) is an error.
func Strict(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	return d.Decode(v)
}

// StrictSnapshot is one snapshot row of a recording, decoded strictly.
type StrictSnapshot struct {
	ID           int64
	Frames       []wire.Frame
	Placeholders []wire.Placeholder
	Meta         wire.Meta
}

// StrictSnapshots decodes every snapshot row of the recording db into the
// wire types with unknown fields disallowed, reporting each failure as a
// test error, and returns the rows.
func StrictSnapshots(t testing.TB, db string) []StrictSnapshot {
	t.Helper()
	conn, err := sql.Open("sqlite3", "file:"+db+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	rows, err := conn.Query("SELECT id, frames, globals, placeholders, meta FROM snapshots")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []StrictSnapshot
	for rows.Next() {
		var s StrictSnapshot
		var frames, globals, placeholders, meta string
		if err := rows.Scan(&s.ID, &frames, &globals, &placeholders, &meta); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			what, raw string
			v         any
		}{
			{"frames", frames, &s.Frames},
			{"globals", globals, &map[string]map[string]wire.Value{}},
			{"placeholders", placeholders, &s.Placeholders},
			{"meta", meta, &s.Meta},
		} {
			if err := Strict([]byte(c.raw), c.v); err != nil {
				t.Errorf("snap-%d %s: %v: %s", s.ID, c.what, err, shorten(c.raw, 400))
			}
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func shorten(s string, n int) string {
	if len(s) > n {
		s = s[:n] + "..."
	}
	return strings.ReplaceAll(s, "\n", " ")
}
