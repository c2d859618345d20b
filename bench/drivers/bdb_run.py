"""pdb's engine on a workload: bdb.Bdb with one line breakpoint, run the
way pdb runs a script (``python -m pdb``), continuing at every stop. Prints
the number of breakpoint hits to stderr as ``BDB-HITS n``.

    python bdb_run.py PROGRAM LINE [ARGS...]
"""
import bdb
import builtins
import os
import sys


class Runner(bdb.Bdb):
    hits = 0

    def user_line(self, frame):
        if self.break_here(frame):
            self.hits += 1
        self.set_continue()


def main():
    prog = os.path.abspath(sys.argv[1])
    line = int(sys.argv[2])
    sys.argv = [prog] + sys.argv[3:]
    sys.path[0] = os.path.dirname(prog)
    r = Runner()
    err = r.set_break(prog, line)
    if err:
        sys.exit("bdb: %s" % err)
    with open(prog, "rb") as f:
        code = compile(f.read(), prog, "exec")
    import __main__
    ns = __main__.__dict__
    write = sys.stderr.write
    b = builtins  # this driver is __main__ too: its globals are cleared below
    ns.clear()
    ns.update({"__name__": "__main__", "__file__": prog, "__builtins__": b})
    try:
        r.run(code, ns)
    finally:
        write("BDB-HITS %d\n" % r.hits)


main()
