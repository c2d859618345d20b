"""Signatures of what a recording would make pyreplay run: the same MACs as
internal/trust (Go). capture.py signs every snapshot row and source it
writes; resume.py and pasteval.py read a snapshot's state only through
store.read_state, which checks its signature first. Pure: no SQL here."""

def key_id(key):
    import hashlib
    return hashlib.sha256(key).hexdigest()[:16]


def _mac(key, domain, parts):
    import hashlib
    import hmac
    m = hmac.new(key, domain, hashlib.sha256)
    for p in parts:
        m.update(b"\0")
        m.update(p)
    return m


def snapshot_mac(key, frames, meta, placeholders, state):
    """An hmac object over a snapshot row, fed up to the first segment of
    its state (state): the rest of the state (its state_chunks, in order)
    is fed to it with update(); hexdigest() is the row's state_mac."""
    return _mac(key, b"pyreplay-snapshot-1", (frames.encode(), meta.encode(), placeholders.encode(), state))


def inputs_mac(key, log_id, first, upto, data, gap):
    """An interval of a run's outside inputs (inputs.py): its log, its
    first and last index, its notes (JSON) and where its gap begins."""
    return _mac(key, b"pyreplay-inputs-1", (log_id.encode(), b"%d" % first, b"%d" % upto, data.encode(),
                                             b"-" if gap is None else b"%d" % gap)).hexdigest()


def source_mac(key, sha, text):
    return _mac(key, b"pyreplay-source-1", (sha.encode(), text.encode())).hexdigest()


class Untrusted(Exception):
    pass
