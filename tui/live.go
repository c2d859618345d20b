package tui

import (
	tea "github.com/charmbracelet/bubbletea"
)

// Live is a running program the TUI drives in live mode. Each method blocks
// until the program stops again (a new snapshot is in the recording) or
// ends.
type Live interface {
	Continue() error
	Next() error
	StepIn() error
	StepOut() error
	StepBack() error
	// State is a short description for the header ("paused", "exited 0").
	State() string
}

type liveDoneMsg struct {
	what string
	err  error
}

// liveKey runs a live-mode command; ok is false for keys it does not own.
func (m *Model) liveKey(msg tea.KeyMsg) (tea.Cmd, bool) {
	return nil, false
}

func (m *Model) liveDone(msg liveDoneMsg) tea.Cmd { return nil }

func (m *Model) liveState() string {
	if m.opts.Live == nil {
		return ""
	}
	return m.opts.Live.State()
}
