package checkpoint

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// CRIU's image framing: a u32 common magic (when present) and the image's
// magic, then entries of a u32 length and a protobuf message.
const (
	imgCommonMagic = 0x54564319
	ttyTypeExt     = 5 // TtyType EXT_TTY in CRIU's tty.proto
	ttySidField    = 6 // TtyInfoEntry.sid
	ttyPgrpField   = 7 // TtyInfoEntry.pgrp
	ttyTypeField   = 2 // TtyInfoEntry.type
)

// detachExternalTTYs clears the session and process group CRIU recorded for
// the external terminals (--external tty[...]) in dir's tty-info.img. The
// terminal was the recording's controlling terminal, its session leader a
// shell outside the image; CRIU would refuse to restore a terminal whose
// session it cannot find ("No task found with sid"). With no session the
// terminal is just a file handed in anew (--inherit-fd), and the restored
// program joins the restorer's session (--shell-job).
func detachExternalTTYs(dir string) error {
	p := filepath.Join(dir, "tty-info.img")
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	hdr := 4
	if len(b) >= 8 && binary.LittleEndian.Uint32(b) == imgCommonMagic {
		hdr = 8
	}
	if len(b) < hdr {
		return fmt.Errorf("%s is too short", p)
	}
	out := append([]byte(nil), b[:hdr]...)
	changed := false
	for off := hdr; off < len(b); {
		if off+4 > len(b) {
			return fmt.Errorf("%s: truncated entry", p)
		}
		n := int(binary.LittleEndian.Uint32(b[off:]))
		if off+4+n > len(b) {
			return fmt.Errorf("%s: truncated entry", p)
		}
		msg := b[off+4 : off+4+n]
		off += 4 + n
		fields, err := pbFields(msg)
		if err != nil {
			return fmt.Errorf("%s: %v", p, err)
		}
		ext := false
		for _, f := range fields {
			if f.num == ttyTypeField && f.wire == 0 && f.val == ttyTypeExt {
				ext = true
			}
		}
		if ext {
			var m []byte
			for _, f := range fields {
				if f.wire == 0 && (f.num == ttySidField || f.num == ttyPgrpField) {
					m = binary.AppendUvarint(m, uint64(f.num)<<3)
					m = append(m, 0)
					changed = true
					continue
				}
				m = append(m, f.raw...)
			}
			msg = m
		}
		out = binary.LittleEndian.AppendUint32(out, uint32(len(msg)))
		out = append(out, msg...)
	}
	if !changed {
		return nil
	}
	return os.WriteFile(p, out, 0o600)
}

type pbField struct {
	num  int
	wire int
	val  uint64 // varint value
	raw  []byte // the whole field, tag included
}

// pbFields splits a protobuf message into its top-level fields.
func pbFields(b []byte) ([]pbField, error) {
	var fs []pbField
	for i := 0; i < len(b); {
		start := i
		tag, n := binary.Uvarint(b[i:])
		if n <= 0 {
			return nil, errors.New("bad protobuf tag")
		}
		i += n
		f := pbField{num: int(tag >> 3), wire: int(tag & 7)}
		switch f.wire {
		case 0:
			v, n := binary.Uvarint(b[i:])
			if n <= 0 {
				return nil, errors.New("bad protobuf varint")
			}
			f.val = v
			i += n
		case 1:
			i += 8
		case 2:
			l, n := binary.Uvarint(b[i:])
			if n <= 0 {
				return nil, errors.New("bad protobuf length")
			}
			i += n + int(l)
		case 5:
			i += 4
		default:
			return nil, fmt.Errorf("protobuf wire type %d", f.wire)
		}
		if i > len(b) {
			return nil, errors.New("truncated protobuf field")
		}
		f.raw = b[start:i]
		fs = append(fs, f)
	}
	return fs, nil
}
