"""Named facts about the running CPython (3.8-3.13), in one place: modules
test these names rather than spelling version tuples. A leaf."""
import sys

V = sys.version_info[:2]

# sys.monitoring (PEP 669) carries breakpoints and steps; before 3.12 they
# are hook calls compiled into the code plus sys.settrace (triggers.py)
MONITORING = V >= (3, 12)
# code objects know their qualified name (co_qualname); before, it is
# found in the source (paths.qualname)
CO_QUALNAME = V >= (3, 11)
# a call through C (exec) costs a recursion-limit unit of its own before 3.12
C_CALL_COUNTS_DEPTH = V < (3, 12)
# python PROG: __main__.__file__ and sys.path[0] are made absolute from 3.9
MAIN_FILE_ABSOLUTE = V >= (3, 9)
# sys.last_exc exists from 3.12
LAST_EXC = V >= (3, 12)
