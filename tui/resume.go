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
	for _, l := range r.prog.EditReport() {
		fmt.Fprintf(r.stdout, "\r\n[pyreplay] %s", l)
	}
	if r.prog.Image != "" {
		fmt.Fprintf(r.stdout, "\r\n[pyreplay] resuming %s from its CRIU image (exact resume refuses: %s)\r\n\r\n", r.snap, r.prog.Why)
	} else {
		fmt.Fprintf(r.stdout, "\r\n[pyreplay] resuming %s in a fresh process\r\n\r\n", r.snap)
	}
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

// resume runs the program from the current snapshot. Browsing a
// recording, the UI is suspended and it runs to its end in the terminal;
// the engine plans it first, so a snapshot that cannot be resumed is
// reported without leaving the UI. In live mode the engine resumes it in a
// fresh process that the UI goes on debugging (resumeLive).
func (m *Model) resume() tea.Cmd {
	if m.snap == nil {
		m.setMsg("no snapshot to resume from", true)
		return nil
	}
	if m.running {
		m.setMsg("the program is running; wait for it to stop (or P to pause) before resuming", false)
		return nil
	}
	if m.live {
		return m.resumeLive()
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

// liveResumedMsg arrives when the engine has started the resumed process.
type liveResumedMsg struct {
	snap string
	err  error
}

// resumeLive replaces the live program with a fresh process resumed from
// the current snapshot (the engine's ResumeFrom, as DAP's Resume from
// Here): the history after that stop is dropped, and the new process stops
// where the snapshot was taken.
func (m *Model) resumeLive() tea.Cmd {
	eng, n, id := m.eng, m.snap.N, m.snap.ID
	m.resuming, m.running = true, true
	m.setMsg(fmt.Sprintf("resuming %s in a fresh process…", id), false)
	return func() tea.Msg {
		_, err := eng.ResumeFrom(n)
		return liveResumedMsg{snap: id, err: err}
	}
}

func (m *Model) liveResumed(msg liveResumedMsg) tea.Cmd {
	m.resuming = false
	if msg.err != nil {
		m.running = false
		m.setMsg(fmt.Sprintf("resume from %s failed: %v", msg.snap, msg.err), true)
		return nil
	}
	m.outBefore = len(m.eng.Output())
	m.runNote = "resumed from " + msg.snap + " in a fresh process"
	if m.eng.State().Restored {
		m.runNote = "restored " + msg.snap + " from its CRIU image (exact resume refuses it: O shows why)"
	}
	if !m.eng.State().Running {
		m.liveDone() // it has stopped already
	}
	return nil
}
