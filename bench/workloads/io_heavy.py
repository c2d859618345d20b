"""Some I/O: write, read back and parse a text file, with a checksum."""
import hashlib
import os
import tempfile


def write_file(path, n):
    with open(path, "w") as f:
        for i in range(n):
            f.write("%d,%s,%.3f\n" % (i, "k%05d" % (i % 9973), i / 7.0))


def read_file(path):
    total = 0.0
    h = hashlib.sha1()
    with open(path, "rb") as f:
        for raw in f:
            h.update(raw)
            parts = raw.split(b",")
            total += float(parts[2])
    return total, h.hexdigest()


def work(n):
    d = tempfile.mkdtemp(prefix="pyreplay-bench-")
    path = os.path.join(d, "data.csv")
    try:
        write_file(path, n)
        return read_file(path)
    finally:
        os.unlink(path)
        os.rmdir(d)


def report(result):
    summary = {"result": result}
    return summary  # BREAK


if __name__ == "__main__":
    import _harness
    _harness.run(work, report, 70_000)
