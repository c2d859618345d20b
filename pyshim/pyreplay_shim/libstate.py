"""Module-level state of standard-library modules that programs change and a
resumed process would otherwise lose: a library module is imported afresh
on resume (its globals are not part of the snapshot), so what the program
configured in it is saved here and applied again.

- logging: every logger's level, handlers, filters, propagate and disabled
  flags, and logging.disable(); handlers go by value (their stream reopened
  or the same standard stream, their lock made again).
- warnings: the filter list (warnings.simplefilter / filterwarnings).
- decimal: the current context (precision, rounding, traps).
- weakref: the finalizers waiting for their object (weakref.finalize),
  registered again (stdvalues.reduce_finalize), in the order they were
  made.

capture() runs while a snapshot is taken, inside the snapshot's one pickle;
restore() runs in the resumed process before any frame is rebuilt.
"""
import sys


def capture(warning_filters):
    """warning_filters: the program's list (the recorder swaps its own in
    while it takes a snapshot)."""
    st = {}
    logging = sys.modules.get("logging")
    if logging is not None:
        mgr = logging.Logger.manager
        loggers = [("", logging.root)]
        loggers += [(n, lg) for n, lg in list(mgr.loggerDict.items()) if isinstance(lg, logging.Logger)]
        st["logging"] = {
            "disable": mgr.disable,
            "raise": logging.raiseExceptions,
            "loggers": [(n, lg.level, lg.propagate, lg.disabled, list(lg.handlers), list(lg.filters))
                        for n, lg in loggers],
        }
    if "warnings" in sys.modules:
        st["warnings"] = list(warning_filters)
    decimal = sys.modules.get("decimal")
    if decimal is not None:
        st["decimal"] = decimal.getcontext()
    from .stdvalues import live_finalizers
    fins = live_finalizers()
    if fins:
        # (made again as the state loads: restore() has nothing to do)
        st["finalizers"] = fins
    return st


def restore(st):
    if "logging" in st:
        import logging
        lst = st["logging"]
        logging.raiseExceptions = lst["raise"]
        logging.disable(lst["disable"])
        for name, level, propagate, disabled, handlers, filters in lst["loggers"]:
            lg = logging.getLogger(name) if name else logging.root
            lg.setLevel(level)
            lg.propagate, lg.disabled = propagate, disabled
            lg.handlers[:] = handlers
            lg.filters[:] = filters
            for h in handlers:
                # flushed and closed by logging.shutdown() at exit, as before
                if hasattr(logging, "_addHandlerRef"):
                    logging._addHandlerRef(h)
    if "warnings" in st:
        import warnings
        warnings.filters[:] = st["warnings"]
        warnings._filters_mutated()
    if "decimal" in st:
        import decimal
        decimal.setcontext(st["decimal"])
