"""A snapshot inside a sorted(key=...) callback (under C code)."""
import sys

words = ["pear", "fig", "banana", "kiwi", "apple", "cherry"]
seen = []


def key(w):
    seen.append(w)
    k = (len(w), w[::-1])
    return k  # SNAP


print("sorting", len(words), "words")
out = sorted(words, key=key)
print("sorted:", out)
print("keys computed for:", seen)
sys.stderr.write("bye\n")
sys.exit(5)
