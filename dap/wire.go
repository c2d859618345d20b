package dap

// The DAP base protocol on the way in: "Content-Length: N\r\n\r\n" then N
// bytes of JSON. go-dap's reader reads the header up to a CR without limit
// (256 MB without one held ~531 MB); this one gives up after a header
// longer than any valid one, and bounds the body as go-dap does.

import (
	"bufio"
	"io"
	"strconv"
	"strings"
	"time"

	godap "github.com/google/go-dap"
)

const (
	maxHeaderLen  = 64              // "Content-Length: " and 20 digits fit many times over
	maxContentLen = 4 * 1024 * 1024 // go-dap's bound
)

// readMessage reads one message's body.
func readMessage(r *bufio.Reader) ([]byte, error) {
	var header []byte
	for {
		b, err := r.ReadByte()
		if err != nil {
			if err == io.EOF && len(header) > 0 {
				return nil, io.ErrUnexpectedEOF
			}
			return nil, err
		}
		if b == '\r' {
			break
		}
		if len(header) == maxHeaderLen {
			return nil, &godap.BaseProtocolError{Err: "header longer than " + strconv.Itoa(maxHeaderLen) + " bytes without a CR"}
		}
		header = append(header, b)
	}
	var rest [3]byte
	if _, err := io.ReadFull(r, rest[:]); err != nil {
		return nil, err
	}
	if string(rest[:]) != "\n\r\n" {
		return nil, godap.ErrHeaderDelimiterNotCrLfCrLf
	}
	digits, ok := strings.CutPrefix(string(header), "Content-Length: ")
	n, err := strconv.Atoi(digits)
	if !ok || err != nil || n < 0 || digits == "" || digits[0] == '+' || digits[0] == '-' {
		return nil, godap.ErrHeaderNotContentLength
	}
	if n > maxContentLen {
		return nil, godap.ErrHeaderContentTooLong
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return body, nil
}

// deadliner is a connection that can time out reads (TCP, not stdio).
type deadliner interface{ SetReadDeadline(time.Time) error }

// readLoop delivers the client's messages to in until an error (sent too)
// or quit. Over a connection with read deadlines and a stall timeout, a
// client must have launched within the timeout of connecting, and each
// message must arrive whole within the timeout of its first byte; between
// messages, a launched session may stay idle as long as it likes. Either
// way a stalled client is dropped and the next one is served.
func (c *conn) readLoop(in chan<- inMsg, quit <-chan struct{}) {
	r := bufio.NewReader(c.rw)
	dl, _ := c.rw.(deadliner)
	timeout := c.srv.StallTimeout
	connected := time.Now()
	for {
		if dl != nil && timeout > 0 {
			if c.started.Load() {
				_ = dl.SetReadDeadline(time.Time{})
			} else {
				_ = dl.SetReadDeadline(connected.Add(timeout))
			}
			if _, err := r.Peek(1); err == nil && c.started.Load() {
				_ = dl.SetReadDeadline(time.Now().Add(timeout))
			}
		}
		b, err := readMessage(r)
		select {
		case in <- inMsg{b, err}:
		case <-quit:
			return
		}
		if err != nil {
			return
		}
	}
}

type inMsg struct {
	raw []byte
	err error
}
