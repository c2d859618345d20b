package checkpoint

import (
	"fmt"
	"io"
	"os"
	"syscall"
	"time"
	"unsafe"
)

// ttyRelay stands in for a terminal the recording ran in when the
// restorer's stdio is not one: a pseudo-terminal whose slave the copy gets
// (CRIU restores a terminal only onto a terminal), relayed to the
// restorer's output and from its input.
type ttyRelay struct {
	master, slave *os.File
	out, in       *os.File
	done          chan struct{}
}

func newTTYRelay(out, in *os.File) (*ttyRelay, error) {
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, fmt.Errorf("cannot open a pseudo-terminal for the copy: %v", err)
	}
	var unlock int32
	var n uint32
	if err := ioctl(master, syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); err != nil {
		master.Close()
		return nil, err
	}
	if err := ioctl(master, syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); err != nil {
		master.Close()
		return nil, err
	}
	slave, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		master.Close()
		return nil, err
	}
	return &ttyRelay{master: master, slave: slave, out: out, in: in, done: make(chan struct{})}, nil
}

// start makes the terminal pass bytes unchanged (CRIU gave it the
// recording terminal's settings) and relays until the copy's side closes.
func (r *ttyRelay) start() {
	var t syscall.Termios
	if ioctl(r.slave, syscall.TCGETS, uintptr(unsafe.Pointer(&t))) == nil {
		t.Oflag &^= syscall.OPOST
		t.Iflag &^= syscall.ICRNL | syscall.INLCR | syscall.IGNCR | syscall.IXON
		t.Lflag &^= syscall.ECHO | syscall.ECHONL | syscall.ISIG | syscall.IEXTEN
		_ = ioctl(r.slave, syscall.TCSETS, uintptr(unsafe.Pointer(&t)))
	}
	r.slave.Close()
	go func() {
		defer close(r.done)
		w := io.Writer(io.Discard)
		if r.out != nil {
			w = r.out
		}
		io.Copy(w, r.master) // ends with EIO once the copy is gone
	}()
	if r.in != nil {
		go func() {
			io.Copy(r.master, r.in)
			r.master.Write([]byte{4}) // end of input (VEOF)
		}()
	}
}

// finish waits for the copy's last output, then closes the terminal.
func (r *ttyRelay) finish() {
	select {
	case <-r.done:
	case <-time.After(5 * time.Second):
	}
	r.master.Close()
}

func (r *ttyRelay) abort() {
	r.slave.Close()
	r.master.Close()
}

func ioctl(f *os.File, req, arg uintptr) error {
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), req, arg); e != 0 {
		return e
	}
	return nil
}

func isTerminal(f *os.File) bool {
	var t syscall.Termios
	return f != nil && ioctl(f, syscall.TCGETS, uintptr(unsafe.Pointer(&t))) == nil
}
