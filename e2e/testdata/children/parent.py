"""Starts two Python children: a script (through subprocess.run) and a
module (-m, through Popen), and prints what they said."""
import subprocess
import sys

print("parent starts", flush=True)
r = subprocess.run([sys.executable, "child.py", "héllo", "3"], capture_output=True, text=True)
print("child said:", r.stdout.strip(), "exit", r.returncode)
p = subprocess.Popen([sys.executable, "-m", "childmod", "7"], stdout=subprocess.PIPE, text=True)
out, _ = p.communicate()
print("module said:", out.strip(), "exit", p.returncode)
total = sum(range(4))
print("parent total", total)
