package dap_test

import (
	"database/sql"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	_ "github.com/mattn/go-sqlite3"
	"github.com/pyreplay/pyreplay/internal/testutil"
)

// stampsSession debugs stamps/stamps.py (a package of its own, uuid4,
// secrets, os.getpid and time's clocks) to its uncaught exception on line
// 34: live, or (replay) as a replay of its record --trace recording; it
// returns the stop's `last` receipt as the program had it, with a
// breakpoint set on stamp()'s line 21.
func stampsSession(t *testing.T, minor string, args []string, replay bool) (*client, string) {
	t.Helper()
	f := setup(t, "stamps", minor)
	f.prog = filepath.Join(f.prog, "stamps.py")
	c := newClient(t)
	if replay {
		r := testutil.Cmd{Dir: f.dir}.Pyreplay(t, append([]string{"record", "--trace", "--python", f.py, "--db", f.db, f.prog}, args...)...)
		snaps := regexp.MustCompile(`recorded \d+ snapshots: snap-1\.\.(snap-\d+) in`).FindStringSubmatch(r.Stderr)
		if r.Code != 1 || snaps == nil {
			t.Fatalf("record --trace: %+v", r)
		}
		c.request("initialize", msg{"adapterID": "pyreplay"})
		c.request("launch", msg{"recording": f.db, "snapshot": snaps[1], "lineHistory": true})
		c.event("initialized")
		c.request("setExceptionBreakpoints", msg{"filters": []string{"uncaught"}})
		c.request("configurationDone", nil)
	} else {
		extra := msg{}
		if args != nil {
			extra["args"] = args
		}
		c.launch(f, extra, nil, nil)
	}
	reason, top := c.stopped()
	if (reason != "exception" && !(replay && reason == "entry")) || top.num("line") != 34 {
		t.Fatalf("stop: %s %v", reason, top)
	}
	last := c.locals(top.num("id"))["last"].str("value")
	if !strings.Contains(last, "'pid': ") {
		t.Fatalf("last at the stop: %s", last)
	}
	c.request("setBreakpoints", msg{"source": msg{"path": f.prog}, "breakpoints": []msg{{"line": 21}}})
	return c, last
}

// stepBackTo steps back and checks the line reached; it returns the top
// frame's locals there.
func (c *client) stepBackTo(line int) map[string]msg {
	c.t.Helper()
	c.request("stepBack", msg{"threadId": 1})
	ev, top := c.stoppedEvent()
	if top.num("line") != line {
		c.t.Fatalf("step back reached line %d, not %d (%v)", top.num("line"), line, ev)
	}
	return c.locals(top.num("id"))
}

// launchToException launches f with no breakpoint and checks it stops at
// the uncaught exception at line; returns the top frame.
func (c *client) launchToException(f fixture, line int) msg {
	c.t.Helper()
	c.launch(f, nil, nil, nil)
	reason, top := c.stopped()
	if reason != "exception" || top.num("line") != line {
		c.t.Fatalf("the uncaught exception at line %d: %s %v", line, reason, top)
	}
	return top
}

// reverseContinueTo sends reverseContinue and checks it stops at a
// breakpoint on line where expr evaluates to each of wants, in turn (one
// Reverse Continue each).
func (c *client) reverseContinueTo(line int, expr string, wants ...string) {
	c.t.Helper()
	for _, want := range wants {
		c.request("reverseContinue", msg{"threadId": 1})
		reason, top := c.stopped()
		if reason != "breakpoint" || top.num("line") != line {
			c.t.Fatalf("reverseContinue to line %d: %s %v", line, reason, top)
		}
		if v := c.eval(top.num("id"), expr, "watch").str("result"); v != want {
			c.t.Fatalf("%s at line %d's hit: %s, want %s", expr, line, v, want)
		}
	}
}

// What the program read from outside (the clocks, its pid, uuid4 and
// secrets' random bytes) is recorded live and given back when the past
// is re-executed: at lines of the past, locals built from them are the
// ones the program had (the receipt main() had appended is the one it
// failed on; stamp()'s locals at its last print are that receipt's), and
// the printed elapsed time does not make the re-execution miss the stop.
// Live, and in a replay of a record --trace recording.
func TestLineHistoryOutsideInputs(t *testing.T) {
	for _, run := range []struct {
		minor  string
		replay bool
	}{{"3.8", false}, {"3.11", false}, {"3.12", false}, {"3.13", false}, {"3.8", true}, {"3.12", true}} {
		run := run
		name := run.minor
		if run.replay {
			name += "/replay"
		}
		t.Run(name, func(t *testing.T) {
			c, last := stampsSession(t, run.minor, nil, run.replay)
			for _, line := range []int{33, 32, 31, 28} {
				c.stepBackTo(line)
			}
			r := c.stepBackTo(30)["r"].str("value")
			if r != last {
				t.Fatalf("r at line 30: %s\nthe receipt the program failed on: %s", r, last)
			}
			c.request("reverseContinue", msg{"threadId": 1})
			reason, top := c.stopped()
			if reason != "breakpoint" || top.num("line") != 21 {
				t.Fatalf("reverse continue: %s %v", reason, top)
			}
			loc := c.locals(top.num("id"))
			for _, name := range []string{"pid", "id", "secret", "when", "took"} {
				local := name
				if name == "id" {
					local = "ident"
				}
				if want := "'" + name + "': " + loc[local].str("value"); !strings.Contains(last, want) {
					t.Fatalf("%s at stamp()'s line 21 of the past: %s, not in the receipt %s", local, loc[local].str("value"), last)
				}
			}
			ev := c.request("evaluate", msg{"expression": "(pid, ident)", "frameId": top.num("id"), "context": "watch"}).body()
			if got := ev.str("result"); got != "("+loc["pid"].str("value")+", "+loc["ident"].str("value")+")" {
				t.Fatalf("evaluate in the past: %s", got)
			}
			c.request("continue", msg{"threadId": 1})
			if reason, top := c.stopped(); (reason != "exception" && !run.replay) || top.num("line") != 34 {
				t.Fatalf("continue back to the present: %s %v", reason, top)
			}
			c.request("terminate", nil)
		})
	}
}

// What cannot be recorded (datetime.now() reads the clock in C) is shown
// as unknown, never as a wrong value: every value at a line of the past
// is either "<unknown: may come from datetime.now() at stamps.py:19 ...>"
// or exactly the program's (the receipt it failed on holds stamp()'s
// last values; a value known from the anchor the stretch re-executes
// from, or set before the first such read, is shown). The stop frame's
// values that stay as they are at the stop are the recording's (the
// loop's counter); evaluating where a value is unknown says why.
func TestLineHistoryUnrecordedInputs(t *testing.T) {
	unknown := func(v string) bool {
		return strings.HasPrefix(v, "<unknown: may come from datetime.now() at ") && strings.Contains(v, "stamps.py:19")
	}
	for _, minor := range []string{"3.8", "3.11", "3.12", "3.13"} {
		minor := minor
		t.Run(minor, func(t *testing.T) {
			c, last := stampsSession(t, minor, []string{"--dated"}, false)
			for _, line := range []int{33, 32, 31, 28} {
				c.stepBackTo(line)
			}
			loc := c.stepBackTo(30)
			for name, want := range map[string]string{"n": "2", "order": "'crème brûlée'", "dated": "True"} {
				if v := loc[name].str("value"); v != want {
					t.Fatalf("%s at line 30 (as it is at the stop): %s", name, v)
				}
			}
			if r := loc["r"].str("value"); !unknown(r) && r != last {
				t.Fatalf("r at line 30 is neither unknown nor the program's: %s\nthe program's: %s", r, last)
			}
			c.request("reverseContinue", msg{"threadId": 1})
			reason, top := c.stopped()
			if reason != "breakpoint" || top.num("line") != 21 {
				t.Fatalf("reverse continue: %s %v", reason, top)
			}
			loc = c.locals(top.num("id"))
			for _, name := range []string{"day", "pid", "ident", "when"} {
				field := name
				if name == "ident" {
					field = "id"
				}
				if v := loc[name].str("value"); !unknown(v) && !strings.Contains(last, "'"+field+"': "+v) {
					t.Fatalf("%s at stamp()'s line 21 of the past is neither unknown nor the program's: %s\nthe receipt: %s", name, v, last)
				}
			}
			// (a stretch re-executed from an anchor taken after this call's
			// datetime.now() read has nothing unknown here)
			if day := loc["day"].str("value"); unknown(day) {
				if msg := c.requestErr("evaluate", msg{"expression": "(day, pid)", "frameId": top.num("id"), "context": "watch"}); !strings.Contains(msg, "datetime.now() at ") {
					t.Fatalf("evaluate at a line after an unrecorded input: %q", msg)
				}
			}
			c.request("terminate", nil)
		})
	}
}

// A run's outside inputs are signed like its snapshots: a recording made
// under another key and trusted ("trust": true) gives them back (the
// receipt at line 30 is the one the program failed on); an interval
// changed after that is not used: its values are unknown, not the forged
// ones; and trusted again, the forged values do not pass for the
// original's, as the locals at the exception are not the recording's.
func TestLineHistoryInputsTrust(t *testing.T) {
	// (the last part needs a stretch before the exception that reads a
	// pid: an anchor taken after the last one leaves none to forge, and
	// going back from it is exact; the program is recorded again)
	for attempt := 1; ; attempt++ {
		if inputsTrust(t, attempt == 3) {
			return
		}
	}
}

// inputsTrust is one recording of TestLineHistoryInputsTrust; false when
// the exception's stretch read no pid and this is not the final attempt.
func inputsTrust(t *testing.T, final bool) bool {
	f := setup(t, "stamps", "3.12")
	f.prog = filepath.Join(f.prog, "stamps.py")
	them := testutil.Cmd{Dir: f.dir, Env: []string{"XDG_CONFIG_HOME=" + filepath.Join(f.dir, "cfg-theirs")}}
	r := them.Pyreplay(t, "record", "--trace", "--python", f.py, "--db", f.db, f.prog)
	snaps := regexp.MustCompile(`recorded \d+ snapshots: snap-1\.\.(snap-\d+) in`).FindStringSubmatch(r.Stderr)
	if r.Code != 1 || snaps == nil {
		t.Fatalf("record --trace: %+v", r)
	}
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(f.dir, "cfg-mine")) // the adapter's user
	open := func(trust bool) (*client, string) {
		c := newClient(t)
		c.request("initialize", msg{"adapterID": "pyreplay"})
		c.request("launch", msg{"recording": f.db, "snapshot": snaps[1], "lineHistory": true, "trust": trust})
		c.event("initialized")
		c.request("configurationDone", nil)
		_, top := c.stopped()
		last := c.locals(top.num("id"))["last"].str("value")
		for _, line := range []int{33, 32, 31, 28} {
			c.stepBackTo(line)
		}
		return c, last
	}
	c, last := open(true)
	if r := c.stepBackTo(30)["r"].str("value"); r != last {
		t.Fatalf("r at line 30 of a trusted recording: %s\nthe receipt the program failed on: %s", r, last)
	}
	c.request("terminate", nil)

	db, err := sql.Open("sqlite3", f.db)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	res, err := db.Exec(`UPDATE inputs SET data = replace(data, '"os.getpid", ', '"os.getpid", 1') WHERE data LIKE '%os.getpid%'`)
	if n, _ := res.RowsAffected(); err != nil || n == 0 {
		t.Fatalf("forging the pids: %v (%d rows)", err, n)
	}
	c, _ = open(false)
	if r := c.stepBackTo(30)["r"].str("value"); !strings.HasPrefix(r, "<unknown: may come from ") {
		t.Fatalf("r at line 30 after its interval was changed: %s", r)
	}
	c.request("terminate", nil)

	// trusted again, the forged pids are given back: the re-execution ends
	// with other locals than the recording's at the exception, so it is
	// not taken for the original (Step Back goes by stops, and says why);
	// or, where the forged interval also holds what the program read
	// before the pids (line 26's clock, when no anchor came between:
	// a forged interval is as if not recorded), by line with what came
	// after that read shown unknown, never as a receipt of the program's
	c = newClient(t)
	defer c.request("terminate", nil)
	c.request("initialize", msg{"adapterID": "pyreplay"})
	c.request("launch", msg{"recording": f.db, "snapshot": snaps[1], "lineHistory": true, "trust": true})
	c.event("initialized")
	c.request("configurationDone", nil)
	c.stopped()
	c.request("stepBack", msg{"threadId": 1})
	if ev, top := c.stoppedEvent(); top.num("line") == 33 {
		from := regexp.MustCompile(`re-executed from snap-(\d+)`).FindStringSubmatch(ev.str("description"))
		var forged int
		if from != nil {
			_ = db.QueryRow(`SELECT count(*) FROM inputs WHERE data LIKE '%os.getpid%' AND snap > ?`, from[1]).Scan(&forged)
		}
		if from != nil && forged == 0 && !final {
			return false
		}
		if r := c.locals(top.num("id"))["r"].str("value"); forged > 0 && r != last && !strings.HasPrefix(r, "<unknown: ") {
			t.Fatalf("stepped back by line through a re-execution with other values (%s; %d forged intervals after it): r is %s\nthe program's: %s", ev.str("description"), forged, r, last)
		}
		return true
	}
	if out := c.output.String(); !strings.Contains(out, "cannot go back by line") {
		t.Fatalf("no reason given: %q", out)
	}
	return true
}

// At a line of the past, the top frame's values are the program's there
// beyond their views: a list local expands into its items then, and its
// module's globals (a scope fetched when opened) are as they were then,
// from the line made a recorded snapshot.
func TestLineHistoryTopFrameExpands(t *testing.T) {
	for _, minor := range []string{"3.8", "3.12"} {
		minor := minor
		t.Run(minor, func(t *testing.T) {
			f := setup(t, "tally.py", minor)
			c := newClient(t)
			c.launch(f, nil, nil, nil)
			if reason, top := c.stopped(); reason != "exception" || top.num("line") != 16 {
				t.Fatalf("stop: %s %v", reason, top)
			}
			c.stepBackTo(15)
			loc := c.stepBackTo(16)
			if w := loc["w"].str("value"); w != "'thé'" {
				t.Fatalf("w at the third word's line 16: %s", w)
			}
			counts := loc["counts"]
			if counts.num("variablesReference") == 0 {
				t.Fatalf("counts at a line of the past cannot be expanded: %v", counts)
			}
			var items []string
			for _, v := range c.request("variables", msg{"variablesReference": counts.num("variablesReference")}).body().list("variables") {
				items = append(items, v.str("value"))
			}
			if strings.Join(items, ",") != "1,1" {
				t.Fatalf("counts' items at that line: %v", items)
			}
			frames := c.request("stackTrace", msg{"threadId": 1}).body().list("stackFrames")
			scopes := c.request("scopes", msg{"frameId": frames[0].num("id")}).body().list("scopes")
			if len(scopes) != 2 || scopes[1].str("name") != "Globals" {
				t.Fatalf("scopes at a line of the past: %v", scopes)
			}
			g := c.vars(scopes[1].num("variablesReference"))
			if v := g["TALLY"].str("value"); v != "{'café': 1, 'thé': 1}" { // (a view's repr sorts a dict's keys, as reprlib does)
				t.Fatalf("TALLY at that line: %s", v)
			}
			if v := g["SEEN"].str("value"); v != "['thé', 'café']" {
				t.Fatalf("SEEN at that line: %s", v)
			}
			c.request("terminate", nil)
		})
	}
}
