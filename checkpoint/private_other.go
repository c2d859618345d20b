//go:build !unix

package checkpoint

func checkPrivate(dir string) error { return nil }
