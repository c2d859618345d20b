#!/bin/sh
# VS Code's DebugClient against the built `pyreplay dap` (run by `make test`).
# Installs @vscode/debugadapter-testsupport into ./node_modules (ignored).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
PYREPLAY_BIN=${PYREPLAY_BIN:-$root/bin/pyreplay}
case "$PYREPLAY_BIN" in /*) ;; *) PYREPLAY_BIN=$root/$PYREPLAY_BIN ;; esac
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	echo "editors/vscode/test: node and npm are required (apt-get install nodejs npm)" >&2
	exit 1
fi
[ -n "${PYREPLAY_PYTHON:-}" ] && PYREPLAY_PYTHON_SET=1
pyroot=$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")
if [ -z "${PYREPLAY_PYTHON:-}" ]; then
	PYREPLAY_PYTHON=$(ls -d "$pyroot"/versions/3.11.*/bin/python 2>/dev/null | tail -n 1 || true)
	[ -n "$PYREPLAY_PYTHON" ] || PYREPLAY_PYTHON=$(command -v python3)
fi
cd "$here"
if [ ! -f node_modules/@vscode/debugadapter-testsupport/package.json ]; then
	npm ci --no-audit --no-fund --loglevel=error </dev/null
fi
export PYREPLAY_BIN PYREPLAY_PYTHON
# 3.11, then 3.12 and 3.13 where installed (PYREPLAY_PYTHON set: that one only)
if [ -n "${PYREPLAY_PYTHON_SET:-}" ]; then
	exec node --test e2e.test.js </dev/null
fi
node --test e2e.test.js </dev/null
for v in 3.12 3.13; do
	py=$(ls -d "${pyroot:-$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")}"/versions/$v.*/bin/python 2>/dev/null | tail -n 1 || true)
	if [ -z "$py" ]; then
		echo "editors/vscode/test: no CPython $v installed; skipped" >&2
		continue
	fi
	PYREPLAY_PYTHON=$py node --test e2e.test.js </dev/null
done
