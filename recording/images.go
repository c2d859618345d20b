package recording

import (
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
)

// Image is a snapshot's CRIU image (table snapshot_images, schema 4): its
// directory, or why none could be taken.
type Image struct {
	Snap   int64
	Dir    string // absolute ("" when the dump failed)
	TookMs int64
	Size   int64
	Error  string
}

// Image returns snapshot n's image row, or nil when it has none (or the
// recording predates schema 4).
func (s *Store) Image(n int64) (*Image, error) {
	im := &Image{Snap: n}
	err := s.DB.QueryRow(`SELECT dir, took_ms, size, error FROM snapshot_images WHERE snap=?`, n).
		Scan(&im.Dir, &im.TookMs, &im.Size, &im.Error)
	if errors.Is(err, sql.ErrNoRows) || (err != nil && strings.Contains(err.Error(), "no such table")) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if im.Dir != "" && !filepath.IsAbs(im.Dir) {
		im.Dir = filepath.Join(filepath.Dir(s.Path), im.Dir)
	}
	return im, nil
}

// PutImage records snapshot im.Snap's image (Dir absolute or relative to
// the recording's directory) or why it failed. A snapshot pruned meanwhile
// gets no row.
func (s *Store) PutImage(im Image) error {
	dir := im.Dir
	if dir != "" && filepath.IsAbs(dir) {
		if rel, err := filepath.Rel(filepath.Dir(s.Path), dir); err == nil {
			dir = rel
		}
	}
	_, err := s.DB.Exec(`INSERT OR REPLACE INTO snapshot_images(snap, dir, took_ms, size, error)
		SELECT id, ?, ?, ?, ? FROM snapshots WHERE id=?`, dir, im.TookMs, im.Size, im.Error, im.Snap)
	return err
}

// HasSnapshot says whether snapshot n is (still) in the recording.
func (s *Store) HasSnapshot(n int64) (bool, error) {
	var one int
	err := s.DB.QueryRow(`SELECT 1 FROM snapshots WHERE id=?`, n).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}
