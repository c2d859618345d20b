// Package e2e holds end-to-end tests that run the built pyreplay binary on
// real Python programs (fixtures/) with every installed CPython.
//
//	make build && PYREPLAY_BIN=$PWD/bin/pyreplay go test ./e2e/...
package e2e
