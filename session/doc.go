// Package session is pyreplay's debugging engine. One Engine holds one
// history of stops and one cursor over it, opened on a recording (replay:
// OpenRecording) or on a live program (Launch); the front ends, DAP (dap/)
// and the terminal UI (tui/), only translate requests and keys into engine
// calls and the engine's state and events into their views.
//
// Files by area:
//   - engine.go: the Engine, its state, the types front ends see (Stop,
//     State, events, options).
//   - launch.go: opening a recording, launching a program, starting,
//     reloading, ending.
//   - history.go: moving through the history (Goto, Continue, Step,
//     StepBack, ReverseContinue) and running the live program from its stop.
//   - breakpoints.go: line, function and exception breakpoints, command-line
//     specs, and the one rule for which stops a breakpoint fires at.
//   - inspect.go: the current stop, live values' children, evaluation.
//   - evalpast.go, pasteval.go: evaluation in the past (recorded values,
//     then a helper process on the recorded state).
//   - view.go: what every front end shows alike: user frames, the order of
//     variables and modules, recorded sources, diffs between snapshots.
//   - resume.go: resuming from a stop, debugged live (ResumeFrom) or run to
//     its end in a terminal (ResumeProgram, Program: shared with the CLI).
//   - events.go: live callbacks, the event queue, the kept output.
//   - live.go: a live process under the shim's control channel.
package session
