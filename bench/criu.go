package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/pyreplay/pyreplay/checkpoint"
	"github.com/pyreplay/pyreplay/recording"
)

const (
	criuDumps    = 7  // recordings with --criu=always per case
	criuRestores = 10 // restore / exact resume pairs per case
)

var criuCases = []struct{ arg, name string }{
	{"small", "small program"},
	{"big", "~100 MB heap (bytearray)"},
}

// criuCost measures what a CRIU image costs (bench/drivers/criu_target.py,
// a breakpoint at its BREAK line, --criu=always): the dump time the
// recording stores (snapshot_images.took_ms: the program is frozen about
// that long) and the image's size on disk, over criuDumps fresh
// recordings; then, alternating (ABAB) on the last recording, the wall time
// from starting `pyreplay resume --criu` to the program's first output line
// after the snapshot, against exact resume (`pyreplay resume`) to the same
// line, and their paired ratio. Medians with 95% intervals.
func (r *Results) criuCost(py PyInfo) {
	logf("criu: Python %s", py.Version)
	prog := filepath.Join(r.root, "bench", "drivers", "criu_target.py")
	line := breakLine(prog)
	for _, c := range criuCases {
		fail := func(err error) {
			r.note("criu %s %s: %v", py.Minor, c.arg, err)
			r.add(Figure{Section: "criu", Python: py.Minor, Case: c.name, Metric: "dump", Unit: "ms", Stat: nanStat(), Note: "failed: " + firstLine(err.Error())})
		}
		var took, size []float64
		var db string
		var ferr error
		for i := 0; i < criuDumps; i++ {
			if db != "" {
				removeDB(db)
			}
			db = filepath.Join(r.tmp, fmt.Sprintf("criu-%s-%s-%d.db", py.Minor, c.arg, i))
			p := run(procTimeout, r.tmp, nil, r.bin, "record", "--criu=always", "--db", db, "--python", py.Path,
				"-b", fmt.Sprintf("%s:%d", prog, line), prog, c.arg)
			if p.err == nil && !strings.Contains(p.stderr, "recorded 1 snapshot") {
				p.err = fmt.Errorf("expected one snapshot: %s", p.stderr)
			}
			if p.err != nil {
				ferr = p.err
				break
			}
			t, s, err := imageCost(db)
			if err != nil {
				ferr = err
				break
			}
			took, size = append(took, t), append(size, s/1e6)
		}
		if ferr != nil {
			fail(ferr)
			removeDB(db)
			continue
		}
		list, err := r.ls(db)
		if err != nil || len(list) != 1 {
			fail(fmt.Errorf("listing the recording: %v (%d snapshots)", err, len(list)))
			removeDB(db)
			continue
		}
		snap := list[0].ID
		var restore, exact []float64
		for rep := 0; rep < criuRestores && ferr == nil; rep++ {
			a, _, err := r.timeToReach(r.bin, "resume", "--db", db, "--criu", snap)
			if err != nil {
				ferr = err
				break
			}
			b, _, err := r.timeToReach(r.bin, "resume", "--db", db, snap)
			if err != nil {
				ferr = err
				break
			}
			restore, exact = append(restore, a*1000), append(exact, b*1000)
		}
		removeDB(db)
		r.add(Figure{Section: "criu", Python: py.Minor, Case: c.name, Metric: "dump", Unit: "ms", Stat: medianStat(took),
			Note: fmt.Sprintf("snapshot_images.took_ms of %d recordings", len(took))})
		r.add(Figure{Section: "criu", Python: py.Minor, Case: c.name, Metric: "image size", Unit: "MB", Stat: medianStat(size)})
		if ferr != nil {
			r.note("criu %s %s: %v", py.Minor, c.arg, ferr)
			r.add(Figure{Section: "criu", Python: py.Minor, Case: c.name, Metric: "restore", Unit: "ms", Stat: nanStat(), Note: "failed: " + firstLine(ferr.Error())})
			continue
		}
		r.add(Figure{Section: "criu", Python: py.Minor, Case: c.name, Metric: "restore", Unit: "ms", Stat: medianStat(restore),
			Note: "wall time, pyreplay resume --criu to the first output line after the snapshot"})
		r.add(Figure{Section: "criu", Python: py.Minor, Case: c.name, Metric: "exact resume", Unit: "ms", Stat: medianStat(exact),
			Note: "wall time, pyreplay resume to the same line"})
		r.add(Figure{Section: "criu", Python: py.Minor, Case: c.name, Metric: "restore ÷ exact", Unit: "x", Stat: medianStat(ratios(restore, exact))})
	}
}

// criuUsable says why the criu section cannot run, or "".
func (r *Results) criuUsable() string {
	if _, err := checkpoint.FindDumping(checkpoint.CacheDirs(r.bin)...); err != nil {
		return err.Error()
	}
	return ""
}

// imageCost reads the one snapshot image's dump time (ms) and size (bytes).
func imageCost(db string) (took, size float64, err error) {
	st, err := recording.Open(db)
	if err != nil {
		return 0, 0, err
	}
	defer st.Close()
	var dir, why string
	if err = st.DB.QueryRow(`SELECT dir, took_ms, size, error FROM snapshot_images`).Scan(&dir, &took, &size, &why); err != nil {
		return 0, 0, fmt.Errorf("no snapshot image: %v", err)
	}
	if dir == "" {
		return 0, 0, fmt.Errorf("the dump failed: %s", why)
	}
	// the size on disk, as du counts it, beside the stored one
	if du := dirSize(filepath.Join(filepath.Dir(db), dir)); du > 0 {
		size = du
	}
	return took, size, nil
}

func dirSize(dir string) float64 {
	var n int64
	filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			n += fi.Size()
		}
		return nil
	})
	return float64(n)
}

func removeDB(db string) {
	for _, s := range []string{"", "-wal", "-shm"} {
		os.Remove(db + s)
	}
	os.RemoveAll(db + ".criu")
}
