import sys

n = int(sys.argv[1])
squares = [i * i for i in range(n)]
print("squares", sum(squares), sys.argv[0].endswith("childmod.py"))
