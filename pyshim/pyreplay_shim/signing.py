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
    return m


def snapshot_mac(key, frames, meta, placeholders, state):
    """An hmac object over a snapshot row, fed up to the first segment of
    its state (state): the rest of the state (its state_chunks, in order)
    is fed to it with update(); hexdigest() is the row's state_mac."""
    return _mac(key, b"pyreplay-snapshot-1", (frames.encode(), meta.encode(), placeholders.encode(), state))


def source_mac(key, sha, text):
    return _mac(key, b"pyreplay-source-1", (sha.encode(), text.encode())).hexdigest()


class Untrusted(Exception):
    pass


def read_state(db_path, snap, key):
    """A file to unpickle the state of snap-N from, after its signature
    checks out. The state is snapshots.state followed by the snapshot's
    state_chunks (store.py); all of it is read, in one read transaction,
    before it is checked, and what is checked is what is loaded."""
    import hmac
    import sqlite3
    from . import store
    db = sqlite3.connect("file:%s?mode=ro" % db_path, uri=True, timeout=30, isolation_level=None)
    try:
        db.execute("BEGIN")
        row = db.execute("SELECT frames, meta, placeholders, state, state_mac, key_id FROM snapshots WHERE id=?",
                         (snap,)).fetchone()
        chunks = []
        if row is not None and db.execute("SELECT 1 FROM sqlite_master WHERE name='state_chunks'").fetchone():
            chunks = [c for (c,) in db.execute("SELECT data FROM state_chunks WHERE snap=? ORDER BY seq", (snap,))]
        db.execute("COMMIT")
    finally:
        db.close()
    if row is None:
        raise RuntimeError("snap-%d is not in the recording" % snap)
    frames, meta, ph, state, mac, kid = row
    ok = bool(key) and kid == key_id(key)
    if ok:
        m = snapshot_mac(key, frames, meta, ph, state)
        for c in chunks:
            m.update(c)
        ok = hmac.compare_digest(mac, m.hexdigest())
    if not ok:
        raise Untrusted("snap-%d is not signed with your pyreplay key (or changed since); nothing of it was loaded" % snap)
    return store.stream([state] + chunks)
