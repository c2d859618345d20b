package launch

// CRIU images at snapshot time (pyreplay record --criu, issue 13; the
// protocol is in checkpoint/README.md). The shim gets one end of a Unix
// socketpair as descriptor Config.CriuFd; after committing each snapshot
// (stdio flushed, its SQLite connection closed) it sends
// {"event": "criu-dump", "snapshot": N, "fd": F} and waits. Go decides
// (ResumeVerdict, or always), dumps the whole process with CRIU while it
// waits, records the image in snapshot_images and answers
// {"dumped": bool, ...}. A restored copy of the process reads
// {"restored": true} instead, from the `pyreplay resume` that restored it.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/pyreplay/pyreplay/checkpoint"
	"github.com/pyreplay/pyreplay/internal/trust"
	"github.com/pyreplay/pyreplay/recording"
)

// LiveFile names a live session's control socket in an image (a dump
// leaves it outside; RestoreImage hands in a socket the copy ignores).
const LiveFile = "live"

// NewCriu is the CRIU of record --criu, the DAP launch attribute "criu"
// and the TUI's --criu: mode "refused" (or "on", "true") images the
// snapshots exact resume refuses, "always" every snapshot, "off" (or "")
// none (nil). CRIU must be usable: the error says what is missing.
func NewCriu(mode string) (*Criu, error) {
	var always bool
	switch mode {
	case "off", "", "false":
		return nil, nil
	case "refused", "on", "true":
	case "always":
		always = true
	default:
		return nil, fmt.Errorf("--criu=%s: give --criu (image the snapshots exact resume refuses) or --criu=always (in launch.json, \"criu\": true or \"always\")", mode)
	}
	c, err := checkpoint.Find(checkpoint.CacheDirs("")...)
	if err != nil {
		return nil, fmt.Errorf("--criu: %v", err)
	}
	key, err := trust.UserKey()
	if err != nil {
		return nil, err
	}
	return &Criu{C: c, Always: always, Key: key}, nil
}

// Criu asks for CRIU images during a recording.
type Criu struct {
	C      *checkpoint.CRIU
	Always bool      // image every snapshot, not only those exact resume refuses
	Key    []byte    // signs the images (trust.UserKey)
	Warn   io.Writer // one line per failed dump (default os.Stderr)
}

// criuRequest is the shim's line.
type criuRequest struct {
	Event    string `json:"event"`
	Snapshot int64  `json:"snapshot"`
	Fd       int    `json:"fd"`
	// Files are the shim's other descriptors connected to pyreplay, by
	// name ("live": a live session's control socket): outside the dump,
	// handed in anew on restore.
	Files map[string]int `json:"files"`
}

type criuAnswer struct {
	Dumped  bool    `json:"dumped"`
	Image   string  `json:"image,omitempty"`
	Bytes   int64   `json:"bytes,omitempty"`
	Seconds float64 `json:"seconds,omitempty"`
	Error   string  `json:"error,omitempty"`
}

// criuChannel makes the socketpair: the child's end (to pass as an extra
// file) and pyreplay's.
func criuChannel() (child, parent *os.File, err error) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot create the CRIU channel: %v", err)
	}
	return os.NewFile(uintptr(fds[0]), "criu-child"), os.NewFile(uintptr(fds[1]), "criu"), nil
}

// serve answers the shim's requests until the channel closes.
func (c *Criu) serve(conn *os.File, pid int, db string) {
	defer conn.Close()
	warn := c.Warn
	if warn == nil {
		warn = os.Stderr
	}
	var store *recording.Store
	defer func() {
		if store != nil {
			store.Close()
		}
	}()
	r := bufio.NewReader(conn)
	for {
		line, err := r.ReadBytes('\n')
		if err != nil {
			return
		}
		var req criuRequest
		if json.Unmarshal(line, &req) != nil || req.Event != "criu-dump" || req.Snapshot <= 0 {
			continue
		}
		if store == nil {
			if store, err = recording.Open(db); err != nil {
				store = nil
				conn.Write(answerLine(criuAnswer{Error: err.Error()}))
				continue
			}
		}
		ans := c.handle(store, pid, db, req, warn)
		if _, err := conn.Write(answerLine(ans)); err != nil {
			return
		}
	}
}

func answerLine(a criuAnswer) []byte {
	b, _ := json.Marshal(a)
	return append(b, '\n')
}

func (c *Criu) handle(store *recording.Store, pid int, db string, req criuRequest, warn io.Writer) criuAnswer {
	sweepImages(store, db)
	if !c.Always {
		if v, _ := ResumeVerdict(store, req.Snapshot); v == ResumeExact {
			return criuAnswer{}
		}
	}
	dir := checkpoint.ImageDir(db, int(req.Snapshot))
	_ = checkpoint.Remove(dir) // a leftover of an earlier recording into this file
	files := map[string]int{"control": req.Fd}
	for name, fd := range req.Files {
		if name == LiveFile && fd > 2 {
			files[name] = fd
		}
	}
	img, err := c.C.Dump(pid, dir, checkpoint.DumpOptions{Key: c.Key, Files: files})
	if err != nil {
		msg := oneLine(err.Error())
		fmt.Fprintf(warn, "pyreplay: no CRIU image of %s: %s\n", recording.SnapID(req.Snapshot), msg)
		_ = store.PutImage(recording.Image{Snap: req.Snapshot, Error: msg})
		return criuAnswer{Error: msg}
	}
	if err := store.PutImage(recording.Image{Snap: req.Snapshot, Dir: img.Dir, TookMs: img.Took.Milliseconds(), Size: img.Bytes}); err != nil {
		_ = checkpoint.Remove(img.Dir)
		msg := "cannot record the CRIU image: " + oneLine(err.Error())
		fmt.Fprintf(warn, "pyreplay: no CRIU image of %s: %s\n", recording.SnapID(req.Snapshot), msg)
		return criuAnswer{Error: msg}
	}
	rel, _ := filepath.Rel(filepath.Dir(db), img.Dir)
	return criuAnswer{Dumped: true, Image: rel, Bytes: img.Bytes, Seconds: img.Took.Seconds()}
}

// sweepImages removes the images of snapshots no longer in the recording
// (pruned by --max-snapshots).
func sweepImages(store *recording.Store, db string) {
	ents, err := os.ReadDir(db + ".criu")
	if err != nil {
		return
	}
	for _, e := range ents {
		n, err := strconv.ParseInt(strings.TrimPrefix(e.Name(), "snap-"), 10, 64)
		if err != nil || !strings.HasPrefix(e.Name(), "snap-") {
			continue
		}
		if ok, err := store.HasSnapshot(n); err == nil && !ok {
			_ = checkpoint.Remove(filepath.Join(db+".criu", e.Name()))
		}
	}
}

// SweepImages removes the CRIU images of the recording at db whose
// snapshots are gone.
func SweepImages(db string) {
	if _, err := os.Stat(db + ".criu"); err != nil {
		return
	}
	if store, err := recording.Open(db); err == nil {
		sweepImages(store, db)
		store.Close()
	}
}

func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}
