"""Signatures of what a recording would make pyreplay run: the same MACs as
internal/trust (Go). capture.py signs every snapshot row and source it
writes; resume.py and pasteval.py read a snapshot's state only through
read_state, which checks its signature first."""

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
    return m.hexdigest()


def snapshot_mac(key, frames, meta, placeholders, state):
    return _mac(key, b"pyreplay-snapshot-1", (frames.encode(), meta.encode(), placeholders.encode(), state))


def source_mac(key, sha, text):
    return _mac(key, b"pyreplay-source-1", (sha.encode(), text.encode()))


class Untrusted(Exception):
    pass


def read_state(db_path, snap, key):
    """The pickled state of snap-N, after its signature checks out."""
    import hmac
    import sqlite3
    db = sqlite3.connect("file:%s?mode=ro" % db_path, uri=True, timeout=30)
    try:
        row = db.execute("SELECT frames, meta, placeholders, state, state_mac, key_id FROM snapshots WHERE id=?",
                         (snap,)).fetchone()
    finally:
        db.close()
    if row is None:
        raise RuntimeError("snap-%d is not in the recording" % snap)
    frames, meta, ph, state, mac, kid = row
    if not key or kid != key_id(key) or not hmac.compare_digest(mac, snapshot_mac(key, frames, meta, ph, state)):
        raise Untrusted("snap-%d is not signed with your pyreplay key (or changed since); nothing of it was loaded" % snap)
    return state
