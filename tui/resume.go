package tui

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"

	tea "github.com/charmbracelet/bubbletea"
)

// resumeDoneMsg arrives when the resumed program has exited and the user
// has pressed Enter to come back.
type resumeDoneMsg struct {
	snap string
	code int
	err  error
}

// resumeRun runs `pyreplay resume SNAP --db PATH` in the terminal the TUI
// has released, then says how it ended and waits for Enter, so the user can
// read the program's output before the TUI draws over it.
type resumeRun struct {
	cmd    *exec.Cmd
	snap   string
	stdin  io.Reader
	stdout io.Writer
	code   int
}

func (r *resumeRun) SetStdin(in io.Reader)   { r.stdin = in }
func (r *resumeRun) SetStdout(out io.Writer) { r.stdout = out }
func (r *resumeRun) SetStderr(io.Writer)     {}

func (r *resumeRun) Run() error {
	r.cmd.Stdin, r.cmd.Stdout, r.cmd.Stderr = r.stdin, r.stdout, os.Stderr
	fmt.Fprintf(r.stdout, "\r\n[pyreplay] resuming %s: %s\r\n\r\n", r.snap, shellJoin(r.cmd.Args))
	err := r.cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		r.code = 0
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
		err = nil
	default:
		r.code = -1
	}
	if err != nil {
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

func shellJoin(args []string) string {
	out := ""
	for i, a := range args {
		if i > 0 {
			out += " "
		}
		if a == "" || containsAny(a, " \t'\"\\$") {
			out += "'" + a + "'"
		} else {
			out += a
		}
	}
	return out
}

func containsAny(s, chars string) bool {
	for _, c := range s {
		for _, d := range chars {
			if c == d {
				return true
			}
		}
	}
	return false
}

// resume suspends the UI and runs the program from the current snapshot.
func (m *Model) resume() tea.Cmd {
	if m.snap == nil {
		m.setMsg("no snapshot to resume from", true)
		return nil
	}
	if m.running {
		m.setMsg("the program is running; wait for it to stop (or P to pause) before resuming", false)
		return nil
	}
	exe := m.opts.Executable
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			m.setMsg("cannot find the pyreplay binary to resume with: "+err.Error(), true)
			return nil
		}
	}
	args := []string{"resume", m.snap.ID}
	if m.opts.DBPath != "" {
		args = append(args, "--db", m.opts.DBPath)
	}
	run := &resumeRun{cmd: exec.Command(exe, args...), snap: m.snap.ID}
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
	before := len(m.list)
	if err := m.reload(); err != nil {
		m.setMsg(err.Error(), true)
		return nil
	}
	extra := ""
	if n := len(m.list) - before; n > 0 {
		extra = fmt.Sprintf("; it recorded %d new snapshot(s)", n)
	}
	m.setMsg(fmt.Sprintf("resumed from %s: the program exited with code %d%s", msg.snap, msg.code, extra), msg.code != 0)
	return nil
}
