// Package pyshim embeds the Python side of pyreplay (standard library only)
// and installs it into a private directory at run time.
package pyshim

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

//go:embed boot.py pyreplay_shim/*.py
var files embed.FS

// Version identifies the embedded shim (a hash of its files).
var Version = func() string {
	h := sha256.New()
	_ = fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := files.ReadFile(p)
		fmt.Fprintf(h, "%s\x00%d\x00", p, len(b))
		h.Write(b)
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))[:16]
}()

// Install writes the shim into a per-user directory (once per shim version)
// and returns the path of its entry script.
func Install() (string, error) {
	base := filepath.Join(os.TempDir(), fmt.Sprintf("pyreplay-%d", os.Getuid()))
	dir := filepath.Join(base, "shim-"+Version)
	boot := filepath.Join(dir, "boot.py")
	if _, err := os.Stat(boot); err == nil {
		return boot, nil
	}
	if err := os.MkdirAll(base, 0o700); err != nil {
		return "", fmt.Errorf("cannot create %s: %v", base, err)
	}
	tmp, err := os.MkdirTemp(base, "tmp-shim-")
	if err != nil {
		return "", err
	}
	err = fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		target := filepath.Join(tmp, p)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		os.RemoveAll(tmp)
		return "", err
	}
	if err := os.Rename(tmp, dir); err != nil {
		os.RemoveAll(tmp)
		if _, serr := os.Stat(boot); serr == nil {
			return boot, nil // another process won the race
		}
		return "", err
	}
	return boot, nil
}
