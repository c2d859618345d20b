"""The names the shim and Go share (wire/*.go holds the same, typed):
control-channel commands and events (wire/control.go), the kinds of a
recorded frame (wire.Frame.Kind), and the kinds of a snapshot's manifest
entries (Python only: which value of the pickled state goes where on
resume). A leaf: constants only. recording/FORMAT.md says who writes what."""

# control channel: Go -> shim commands
CMD_START = "start"
CMD_BREAKPOINTS = "breakpoints"
CMD_EVALUATE = "evaluate"
CMD_CHILDREN = "children"
CMD_PAUSE = "pause"
CMD_KILL = "kill"
CMD_REFRESH = "refresh"
RUN_COMMANDS = ("continue", "next", "stepIn", "stepOut")

# control channel: shim -> Go events
EVENT_READY = "ready"
EVENT_CHILD = "child"
EVENT_EXIT = "exit"
EVENT_STOPPED = "stopped"
EVENT_OUTPUT = "output"

# wire.Frame.Kind: how a frame is at its snapshot
FRAME_LINE = "line"            # at a line event (breakpoint, step)
FRAME_HOOK = "hook"            # at a breakpoint hook compiled into the code (<=3.11)
FRAME_ENTRY = "entry"          # at its function's start
FRAME_CALL = "call"            # in a call to the next frame
FRAME_EXCEPTION = "exception"  # where an exception was raised (traceback)
FRAME_CREATED = "created"      # a generator not started
FRAME_SUSPENDED = "suspended"  # a generator at a yield

# manifest entries (kind, frame index or module, name or position, where)
M_LOCAL = "l"        # a local of frame i
M_STACK = "s"        # a value-stack item of frame i
M_NAMESPACE = "n"    # a class body's namespace
M_GLOBALS = "g"      # a program module's globals (pickled by reference)
M_GLOBAL = "G"       # one global of a program module
M_EXTRA = "x"        # process, random, exc, setorders
