package tui

import (
	"bufio"
	"fmt"
	"io"
	"os"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/pyreplay/pyreplay/session"
)

// resumeDoneMsg arrives when the resumed program has exited and the user
// has pressed Enter to come back.
type resumeDoneMsg struct {
	snap string
	code int
	err  error
}

// resumeRun runs the program the engine resumed from a snapshot (as
// `pyreplay resume` runs it) in the terminal the TUI has released, then
// says how it ended and waits for Enter, so the user can read the
// program's output before the TUI draws over it.
type resumeRun struct {
	prog   *session.Program
	snap   string
	stdin  io.Reader
	stdout io.Writer
	code   int
}

func (r *resumeRun) SetStdin(in io.Reader)   { r.stdin = in }
func (r *resumeRun) SetStdout(out io.Writer) { r.stdout = out }
func (r *resumeRun) SetStderr(io.Writer)     {}

func (r *resumeRun) Run() error {
	r.prog.Stdin, r.prog.Stdout, r.prog.Stderr = r.stdin, r.stdout, os.Stderr
	fmt.Fprintf(r.stdout, "\r\n[pyreplay] resuming %s in a fresh process\r\n\r\n", r.snap)
	res, err := r.prog.Run()
	r.code = res.ExitCode
	if res.ShimErr != "" {
		fmt.Fprintf(r.stdout, "\r\n[pyreplay] %s\r\n", res.ShimErr)
		if r.code == 0 {
			r.code = 2
		}
	}
	if err != nil {
		r.code = -1
		fmt.Fprintf(r.stdout, "\r\n[pyreplay] could not resume %s: %v\r\n", r.snap, err)
	} else {
		fmt.Fprintf(r.stdout, "\r\n[pyreplay] the program resumed from %s exited with code %d\r\n", r.snap, r.code)
	}
	fmt.Fprintf(r.stdout, "[pyreplay] press Enter to return to the TUI ")
	if r.stdin != nil {
		_, _ = bufio.NewReader(r.stdin).ReadString('\n')
	}
	return err
}

// resume suspends the UI and runs the program from the current snapshot
// to its end; the engine plans it first, so a snapshot that cannot be
// resumed is reported without leaving the UI.
func (m *Model) resume() tea.Cmd {
	if m.snap == nil {
		m.setMsg("no snapshot to resume from", true)
		return nil
	}
	if m.running {
		m.setMsg("the program is running; wait for it to stop (or P to pause) before resuming", false)
		return nil
	}
	prog, err := m.eng.ResumeProgram(m.snap.N)
	if err != nil {
		m.setMsg(fmt.Sprintf("resume from %s failed: %v", m.snap.ID, err), true)
		return nil
	}
	run := &resumeRun{prog: prog, snap: m.snap.ID}
	m.resuming = true
	return tea.Exec(run, func(err error) tea.Msg {
		return resumeDoneMsg{snap: run.snap, code: run.code, err: err}
	})
}

func (m *Model) resumeDone(msg resumeDoneMsg) tea.Cmd {
	m.resuming = false
	if msg.err != nil {
		m.setMsg(fmt.Sprintf("resume from %s failed: %v", msg.snap, msg.err), true)
		return nil
	}
	n, err := m.eng.Reload()
	if err != nil {
		m.setMsg(err.Error(), true)
		return nil
	}
	m.sync()
	extra := ""
	if n > 0 {
		extra = fmt.Sprintf("; it recorded %d new snapshot(s)", n)
	}
	m.setMsg(fmt.Sprintf("resumed from %s: the program exited with code %d%s", msg.snap, msg.code, extra), msg.code != 0)
	return nil
}
