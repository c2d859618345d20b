package recording

import (
	"database/sql"
	"fmt"

	"github.com/pyreplay/pyreplay/internal/trust"
	"github.com/pyreplay/pyreplay/wire"
)

// UntrustedError says why a snapshot's state may not be loaded: it was
// signed with another key (someone else's recording, or an older unsigned
// one), or it changed after it was signed.
type UntrustedError struct {
	Snap     string
	Path     string
	Tampered bool   // signed with this user's key, and changed since
	What     string // the part that failed (state, or a source file)
}

func (e *UntrustedError) Error() string {
	if e.Tampered {
		return fmt.Sprintf("%s was changed after it was recorded (its %s no longer matches its signature); nothing was run — record it again", e.Snap, e.What)
	}
	return fmt.Sprintf("%s was not recorded under your pyreplay key (someone else's recording, or one made before recordings were signed); nothing was run — if you trust %s, run `pyreplay trust %s` (or pass --trust; in VS Code, \"trust\": true in launch.json)", e.Snap, e.Path, e.Path)
}

// Verify checks, before anything of snapshot n is loaded, that its state,
// the JSON its resume code is generated from and the sources of its frames
// are signed with key.
func (s *Store) Verify(n int64, key []byte) error {
	id := fmt.Sprintf("snap-%d", n)
	if err := s.verifyState(n, id, key); err != nil {
		return err
	}
	snap, err := s.Get(n)
	if err != nil {
		return err
	}
	shas := map[string]bool{}
	for _, f := range append(append([]wire.Frame{}, snap.Frames...), snap.Meta.Generators...) {
		if f.SHA256 != "" {
			shas[f.SHA256] = true
		}
	}
	for _, sha := range snap.Meta.ModuleSources {
		shas[sha] = true
	}
	for sha := range shas {
		var text, smac, skey string
		err := s.DB.QueryRow(`SELECT text, mac, key_id FROM sources WHERE sha256=?`, sha).Scan(&text, &smac, &skey)
		if err == sql.ErrNoRows {
			continue // PlanFor reports a missing source
		}
		if err != nil || skey != trust.KeyID(key) {
			return &UntrustedError{Snap: id, Path: s.Path, What: "source"}
		}
		if !trust.Equal(smac, trust.SourceMAC(key, sha, text)) {
			return &UntrustedError{Snap: id, Path: s.Path, Tampered: true, What: "source " + sha[:12]}
		}
	}
	return nil
}

// verifyState checks the MAC of snapshot n's row and state. The row and its
// chunks are read in one transaction (what is checked is one version of
// them), ended before the caller uses the store again (a store may have
// one connection).
func (s *Store) verifyState(n int64, id string, key []byte) error {
	var frames, meta, ph, mac, keyID string
	var state []byte
	tx, err := s.DB.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // read only
	err = tx.QueryRow(`SELECT frames, meta, placeholders, state, state_mac, key_id FROM snapshots WHERE id=?`, n).
		Scan(&frames, &meta, &ph, &state, &mac, &keyID)
	if err == sql.ErrNoRows {
		return fmt.Errorf("%s: %w", id, ErrNoSnapshot)
	}
	if err != nil {
		// a version 1 file that could not be migrated has no MAC columns
		return &UntrustedError{Snap: id, Path: s.Path, What: "state"}
	}
	if keyID != trust.KeyID(key) {
		return &UntrustedError{Snap: id, Path: s.Path, What: "state"}
	}
	m := trust.NewSnapshotMAC(key, frames, meta, ph, state)
	if err := s.chunks(tx, n, func(c []byte) { m.Write(c) }); err != nil {
		return err
	}
	if !trust.Equal(mac, trust.Hex(m)) {
		return &UntrustedError{Snap: id, Path: s.Path, Tampered: true, What: "state"}
	}
	return nil
}

// Trust signs every snapshot and source of the recording with key: the
// user's explicit statement that its pickled state may be loaded. It
// returns how many snapshots and sources it signed.
func (s *Store) Trust(key []byte) (snaps, sources int, err error) {
	tx, err := s.DB.Begin()
	if err != nil {
		return 0, 0, err
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it does nothing
	id := trust.KeyID(key)
	rows, err := tx.Query(`SELECT id, frames, meta, placeholders, state FROM snapshots`)
	if err != nil {
		return 0, 0, err
	}
	type signed struct {
		n   int64
		mac string
	}
	var todo []signed
	for rows.Next() {
		var n int64
		var frames, meta, ph string
		var state []byte
		if err := rows.Scan(&n, &frames, &meta, &ph, &state); err != nil {
			rows.Close()
			return 0, 0, err
		}
		todo = append(todo, signed{n, trust.Hex(trust.NewSnapshotMAC(key, frames, meta, ph, state))})
	}
	rows.Close()
	chunked := map[int64]bool{}
	if crows, err := tx.Query(`SELECT DISTINCT snap FROM state_chunks`); err == nil {
		for crows.Next() {
			var n int64
			if crows.Scan(&n) == nil {
				chunked[n] = true
			}
		}
		crows.Close()
	}
	for i := range todo {
		if !chunked[todo[i].n] {
			continue
		}
		// a large state: signed again over the whole of it
		var frames, meta, ph string
		var state []byte
		if err := tx.QueryRow(`SELECT frames, meta, placeholders, state FROM snapshots WHERE id=?`, todo[i].n).
			Scan(&frames, &meta, &ph, &state); err != nil {
			return 0, 0, err
		}
		m := trust.NewSnapshotMAC(key, frames, meta, ph, state)
		if err := s.chunks(tx, todo[i].n, func(c []byte) { m.Write(c) }); err != nil {
			return 0, 0, err
		}
		todo[i].mac = trust.Hex(m)
	}
	for _, t := range todo {
		if _, err := tx.Exec(`UPDATE snapshots SET state_mac=?, key_id=? WHERE id=?`, t.mac, id, t.n); err != nil {
			return 0, 0, err
		}
	}
	srows, err := tx.Query(`SELECT sha256, text FROM sources`)
	if err != nil {
		return 0, 0, err
	}
	type ssigned struct{ sha, mac string }
	var stodo []ssigned
	for srows.Next() {
		var sha, text string
		if err := srows.Scan(&sha, &text); err != nil {
			srows.Close()
			return 0, 0, err
		}
		stodo = append(stodo, ssigned{sha, trust.SourceMAC(key, sha, text)})
	}
	srows.Close()
	for _, t := range stodo {
		if _, err := tx.Exec(`UPDATE sources SET mac=?, key_id=? WHERE sha256=?`, t.mac, id, t.sha); err != nil {
			return 0, 0, err
		}
	}
	if err := trustInputs(tx, key, id); err != nil {
		return 0, 0, err
	}
	return len(todo), len(stodo), tx.Commit()
}

// trustInputs signs every interval of outside inputs with key (a
// recording made before the inputs table has none).
func trustInputs(tx *sql.Tx, key []byte, id string) error {
	rows, err := tx.Query(`SELECT rowid, log, first, upto, data, gap FROM inputs`)
	if err != nil {
		return nil
	}
	type signed struct {
		row int64
		mac string
	}
	var todo []signed
	for rows.Next() {
		var row, first, upto int64
		var log, data string
		var gap sql.NullInt64
		if err := rows.Scan(&row, &log, &first, &upto, &data, &gap); err != nil {
			rows.Close()
			return err
		}
		g := int64(-1)
		if gap.Valid {
			g = gap.Int64
		}
		todo = append(todo, signed{row, trust.InputsMAC(key, log, first, upto, data, g)})
	}
	rows.Close()
	for _, t := range todo {
		if _, err := tx.Exec(`UPDATE inputs SET mac=?, key_id=? WHERE rowid=?`, t.mac, id, t.row); err != nil {
			return err
		}
	}
	return nil
}
