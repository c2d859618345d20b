package checkpoint

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/pyreplay/pyreplay/internal/trust"
)

// ManifestName is the file in an image directory that authenticates the
// others:
//
//	pyreplay-criu-image 1
//	key <trust.KeyID(key)>
//	file <sha256 of the content, hex> <size> <name>     (one per file, by name)
//	mac <HMAC-SHA256(key, "pyreplay-criu-image-1\n" + every line above), hex>
//
// Every regular file of the directory but MANIFEST must be listed, and
// nothing else may be there (no subdirectories, no symbolic links).
const ManifestName = "MANIFEST"

const manifestDomain = "pyreplay-criu-image-1\n"

// Sign writes dir's MANIFEST, authenticating every file in it with key.
func Sign(dir string, key []byte) error {
	if len(key) == 0 {
		return errors.New("no key to sign the CRIU image with")
	}
	names, err := imageFiles(dir)
	if err != nil {
		return err
	}
	sums, err := hashFiles(dir, names)
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString("pyreplay-criu-image 1\n")
	fmt.Fprintf(&b, "key %s\n", trust.KeyID(key))
	for i, n := range names {
		fmt.Fprintf(&b, "file %s %d %s\n", sums[i].sum, sums[i].size, n)
	}
	body := b.String()
	fmt.Fprintf(&b, "mac %s\n", manifestMAC(key, body))
	tmp := filepath.Join(dir, ManifestName+".tmp")
	if err := os.WriteFile(tmp, []byte(b.String()), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, ManifestName))
}

// Verify checks dir's MANIFEST with key: the directory is private to this
// user (owned by the effective user, writable by nobody else), the MAC is
// right, and the files present are exactly those listed, each with the
// listed content. The error says what is wrong, in one line.
func Verify(dir string, key []byte) error {
	if len(key) == 0 {
		return errors.New("no key to verify the CRIU image with")
	}
	if err := checkPrivate(dir); err != nil {
		return err
	}
	raw, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("the CRIU image %s is not signed (no %s)", dir, ManifestName)
	}
	if err != nil {
		return err
	}
	i := bytes.LastIndex(raw, []byte("\nmac "))
	if i < 0 || !bytes.HasSuffix(raw, []byte("\n")) {
		return fmt.Errorf("the CRIU image %s has a damaged %s", dir, ManifestName)
	}
	body, macLine := string(raw[:i+1]), strings.TrimSpace(string(raw[i+1:]))
	want := manifestMAC(key, body)
	if !trust.Equal(strings.TrimPrefix(macLine, "mac "), want) {
		if id := manifestKeyID(body); id != "" && id != trust.KeyID(key) {
			return fmt.Errorf("the CRIU image %s was signed with another key (%s, yours is %s)", dir, id, trust.KeyID(key))
		}
		return fmt.Errorf("the CRIU image %s does not verify: its %s was changed", dir, ManifestName)
	}
	type entry struct {
		sum  string
		size int64
	}
	listed := map[string]entry{}
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		f := strings.SplitN(sc.Text(), " ", 4)
		if f[0] != "file" {
			continue
		}
		if len(f) != 4 {
			return fmt.Errorf("the CRIU image %s has a damaged %s", dir, ManifestName)
		}
		size, err := strconv.ParseInt(f[2], 10, 64)
		if err != nil {
			return fmt.Errorf("the CRIU image %s has a damaged %s", dir, ManifestName)
		}
		listed[f[3]] = entry{f[1], size}
	}
	names, err := imageFiles(dir)
	if err != nil {
		return err
	}
	for _, n := range names {
		if _, ok := listed[n]; !ok {
			return fmt.Errorf("the CRIU image %s does not verify: %s was added after it was signed", dir, n)
		}
	}
	if len(names) != len(listed) {
		for n := range listed {
			if !exists(filepath.Join(dir, n)) {
				return fmt.Errorf("the CRIU image %s does not verify: %s is missing", dir, n)
			}
		}
	}
	// Sizes first: a cheap refusal before hashing hundreds of MB.
	for _, n := range names {
		if st, err := os.Lstat(filepath.Join(dir, n)); err != nil || st.Size() != listed[n].size {
			return fmt.Errorf("the CRIU image %s does not verify: %s changed since it was signed", dir, n)
		}
	}
	sums, err := hashFiles(dir, names)
	if err != nil {
		return err
	}
	for i, n := range names {
		if !hmac.Equal([]byte(sums[i].sum), []byte(listed[n].sum)) || sums[i].size != listed[n].size {
			return fmt.Errorf("the CRIU image %s does not verify: %s changed since it was signed", dir, n)
		}
	}
	return nil
}

func manifestMAC(key []byte, body string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(manifestDomain))
	m.Write([]byte(body))
	return hex.EncodeToString(m.Sum(nil))
}

func manifestKeyID(body string) string {
	for _, l := range strings.Split(body, "\n") {
		if strings.HasPrefix(l, "key ") {
			return strings.TrimPrefix(l, "key ")
		}
	}
	return ""
}

// imageFiles lists dir's files but MANIFEST, sorted; anything but a regular
// file is an error.
func imageFiles(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range ents {
		n := e.Name()
		if n == ManifestName || n == ManifestName+".tmp" {
			continue
		}
		if !e.Type().IsRegular() {
			return nil, fmt.Errorf("the CRIU image %s holds %s, which is not a regular file", dir, n)
		}
		if strings.ContainsAny(n, " \n\r") {
			return nil, fmt.Errorf("the CRIU image %s holds a file with an unexpected name %q", dir, n)
		}
		names = append(names, n)
	}
	sort.Strings(names)
	return names, nil
}

type fileSum struct {
	sum  string
	size int64
}

// hashFiles hashes names in dir, a few at a time.
func hashFiles(dir string, names []string) ([]fileSum, error) {
	out := make([]fileSum, len(names))
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for i, n := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			f, err := os.Open(filepath.Join(dir, n))
			if err != nil {
				errs[i] = err
				return
			}
			defer f.Close()
			h := sha256.New()
			size, err := io.Copy(h, f)
			if err != nil {
				errs[i] = err
				return
			}
			out[i] = fileSum{hex.EncodeToString(h.Sum(nil)), size}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
