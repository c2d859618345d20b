"""A program for the checkpoint tests, with the part of the shim the CRIU
protocol needs (see checkpoint/README.md) written out by hand.

Three threads and a queue: a producer thread computes items and puts them
on a queue, the main thread prints them as they come (flushing each line),
a ticker thread counts. A "recording" (SQLite, WAL, like recording.db)
gains a row per item. At item DUMP_AT the producer - a worker thread, the
place exact resume refuses - takes a "snapshot": it closes the SQLite
connection, flushes stdout/stderr, asks Go for a dump on the control
socket and waits for the answer:
  "dumped"   -> the original: reopen the recording and go on recording;
  "restored" -> a restored copy: never touch the recording again.
Then the program goes on to the end; exit status 3.

argv: recording.db control-socket-path items dump_at delay_seconds [heap_mb]
"""
import json
import os
import queue
import socket
import sqlite3
import sys
import threading
import time

db_path, ctl_path = sys.argv[1], sys.argv[2]
items, dump_at, delay = int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
heap_mb = int(sys.argv[6]) if len(sys.argv) > 6 else 0

# ~heap_mb MB of live Python objects (the "100 MB heap" measurement)
heap = [bytes([i % 256]) * 1024 * 1024 for i in range(heap_mb)]

ctl = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
ctl.connect(ctl_path)
ctl_file = ctl.makefile("rwb", buffering=0)

state = {"recording": True}
db_lock = threading.Lock()


def open_db():
    db = sqlite3.connect(db_path, check_same_thread=False, isolation_level=None)
    db.execute("pragma journal_mode=wal")
    db.execute("create table if not exists rows(i integer, who text, pad blob)")
    return db


db = open_db()


def record(i):
    with db_lock:
        if state["recording"]:
            db.execute("insert into rows values(?, ?, ?)", (i, "original", b"x" * 2000))


def snapshot(i):
    """What the shim does at a snapshot that needs a CRIU image."""
    global db
    with db_lock:  # no other thread touches the recording meanwhile
        db.close()  # no SQLite file open, no lock held, while CRIU dumps
        db = None
        sys.stdout.flush()
        sys.stderr.flush()
        ctl_file.write((json.dumps({"event": "criu-dump", "snapshot": i, "fd": ctl.fileno()}) + "\n").encode())
        answer = json.loads(ctl_file.readline())
        if answer.get("restored"):
            state["recording"] = False  # a restored copy records nothing
        else:
            db = open_db()


ticks = [0]
stop = threading.Event()


def ticker():
    while not stop.is_set():
        ticks[0] += 1
        time.sleep(0.005)


q = queue.Queue()


def producer():
    acc = 0
    for i in range(items):
        acc = (acc * 31 + i * i + 7) % 1000003
        if i == dump_at:
            q.join()  # everything before is printed
            print(f"about to snapshot at item {i}", flush=True)
            snapshot(i)
        record(i)
        q.put((i, acc))
        time.sleep(delay)
    q.put(None)


threading.Thread(target=ticker, daemon=True).start()
t = threading.Thread(target=producer, name="worker")
t.start()
total = 0
while True:
    it = q.get()
    if it is None:
        q.task_done()
        break
    i, acc = it
    total += acc
    print(f"item {i}: {acc} total {total} heap {len(heap)}", flush=True)
    q.task_done()
t.join()
stop.set()
print(f"done: {total}", flush=True)
print("stderr: finished", file=sys.stderr, flush=True)
sys.exit(3)
