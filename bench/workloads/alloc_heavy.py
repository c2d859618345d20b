"""Allocation-heavy: objects, dicts, lists and strings made and dropped."""


class Node:
    def __init__(self, key, value, tags):
        self.key = key
        self.value = value
        self.tags = tags


def work(n):
    keep = []
    total = 0
    for i in range(n):
        rec = {"id": i, "name": "item-%d" % i, "vals": [i, i + 1, i + 2]}
        node = Node(rec["name"], rec, (i % 7, i % 11))
        if i % 10 == 0:
            keep.append(node)
        total += len(node.key) + sum(rec["vals"])
        if len(keep) > 5000:
            keep = keep[2500:]
    return total + len(keep)


def report(result):
    summary = {"result": result}
    return summary  # BREAK


if __name__ == "__main__":
    import _harness
    _harness.run(work, report, 80_000)
