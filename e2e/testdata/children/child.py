import os
import sys

word, n = sys.argv[1], int(sys.argv[2])
acc = []
for i in range(n):
    acc.append(word[: i + 1])
print("|".join(acc), "PYREPLAY_CONFIG" in os.environ)
sys.exit(4)
