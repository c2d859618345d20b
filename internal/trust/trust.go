// Package trust holds the user's recording key and the MACs that
// authenticate what a recording would make pyreplay run: each snapshot's
// pickled state with the JSON that the resume code is generated from, and
// each recorded source text. The shim computes the same MACs when it
// writes a snapshot (pyshim/pyreplay_shim/signing.py) and checks
// them again before it unpickles (signing.read_state).
//
// The key is 32 random bytes in $XDG_CONFIG_HOME/pyreplay/key (else
// ~/.config/pyreplay/key), hex, mode 0600, created on first use.
package trust

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// KeyPath is where the user's key lives.
func KeyPath() (string, error) {
	dir := os.Getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("cannot find the home directory for the pyreplay key: %v", err)
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "pyreplay", "key"), nil
}

// UserKey reads the user's key, creating it (0600, in a 0700 directory)
// on first use. A key file that others can read or write is refused.
func UserKey() ([]byte, error) {
	path, err := KeyPath()
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return create(path)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read the pyreplay key %s: %v", path, err)
	}
	if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("the pyreplay key %s is open to other users (mode %o); chmod 600 it", path, st.Mode().Perm())
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(key) < 16 {
		return nil, fmt.Errorf("the pyreplay key %s is damaged; remove it to make a new one (recordings signed with it will need `pyreplay trust`)", path)
	}
	return key, nil
}

func create(path string) ([]byte, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("cannot create %s: %v", filepath.Dir(path), err)
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return UserKey() // made by another pyreplay meanwhile
	}
	if err != nil {
		return nil, fmt.Errorf("cannot create the pyreplay key %s: %v", path, err)
	}
	defer f.Close()
	if _, err := f.WriteString(hex.EncodeToString(key) + "\n"); err != nil {
		return nil, fmt.Errorf("cannot write the pyreplay key %s: %v", path, err)
	}
	return key, nil
}

// KeyID names a key without revealing it (the first 16 hex digits of its
// SHA-256): recordings keep it to tell "signed by another key" from
// "changed since it was signed".
func KeyID(key []byte) string {
	s := sha256.Sum256(key)
	return hex.EncodeToString(s[:8])
}

func newMAC(key []byte, domain string, parts ...[]byte) hash.Hash {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(domain))
	for _, p := range parts {
		m.Write([]byte{0})
		m.Write(p)
	}
	return m
}

func mac(key []byte, domain string, parts ...[]byte) string {
	return hex.EncodeToString(newMAC(key, domain, parts...).Sum(nil))
}

// SnapshotMAC authenticates a snapshot row: the JSON the resume code is
// generated from (frames, meta, placeholders) and the pickled state.
func SnapshotMAC(key []byte, frames, meta, placeholders string, state []byte) string {
	return mac(key, "pyreplay-snapshot-1", []byte(frames), []byte(meta), []byte(placeholders), state)
}

// NewSnapshotMAC is SnapshotMAC for a state in pieces (a large state is
// stored as its first segment and chunks): it is fed the first segment;
// Write the rest in order, then Sum it with Hex.
func NewSnapshotMAC(key []byte, frames, meta, placeholders string, first []byte) hash.Hash {
	return newMAC(key, "pyreplay-snapshot-1", []byte(frames), []byte(meta), []byte(placeholders), first)
}

// Hex is the MAC a hash from NewSnapshotMAC has summed up.
func Hex(m hash.Hash) string { return hex.EncodeToString(m.Sum(nil)) }

// SourceMAC authenticates a recorded source text (copied into resume code).
func SourceMAC(key []byte, sha, text string) string {
	return mac(key, "pyreplay-source-1", []byte(sha), []byte(text))
}

// InputsMAC authenticates an interval of a run's outside inputs (the
// shim's inputs.py: values a re-execution gives the program back): its
// log's id, first and last index, notes (JSON) and gap (-1: none).
func InputsMAC(key []byte, log string, first, upto int64, data string, gap int64) string {
	g := "-"
	if gap >= 0 {
		g = strconv.FormatInt(gap, 10)
	}
	return mac(key, "pyreplay-inputs-1", []byte(log), []byte(strconv.FormatInt(first, 10)),
		[]byte(strconv.FormatInt(upto, 10)), []byte(data), []byte(g))
}

// Equal compares two MACs in constant time.
func Equal(a, b string) bool {
	return hmac.Equal([]byte(a), []byte(b))
}
