"""Three threads and a queue; the snapshot is taken in the worker thread
(the line marked SNAP), which exact resume refuses."""
import os
import queue
import sys
import threading
import time

q = queue.Queue()
stop = threading.Event()
ticks = [0]


def ticker():
    while not stop.is_set():
        ticks[0] += 1
        time.sleep(0.002)


def release():
    # the test lets the program finish once it has resumed a copy
    gate = os.environ.get("CRIU_GATE")
    while gate and not os.path.exists(gate):
        time.sleep(0.01)


def producer(n):
    acc = 0
    for i in range(n):
        acc = (acc * 31 + i * i + 7) % 1000003
        if i == 4:
            q.join()  # everything before is printed
            print("worker at item", i, "acc", acc)  # SNAP
            release()
        q.put((i, acc))
    q.put(None)


threading.Thread(target=ticker, daemon=True).start()
w = threading.Thread(target=producer, args=(9,), name="worker")
w.start()
total = 0
while True:
    it = q.get()
    if it is None:
        q.task_done()
        break
    i, acc = it
    total += acc
    print("item %d: %d total %d" % (i, acc, total))
    q.task_done()
w.join()
stop.set()
print("done:", total, "ticked:", ticks[0] > 0)
print("stderr: finished", file=sys.stderr)
sys.exit(3)
