package dap_test

import (
	"log"
	"strings"
	"testing"
)

type tlog struct{ t testing.TB }

func (w tlog) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func newTestLogger(t testing.TB) *log.Logger { return log.New(tlog{t}, "", log.Lmicroseconds) }
