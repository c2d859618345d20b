package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/pyreplay/pyreplay/dap"
)

func init() { extraCommands = append(extraCommands, dapCmd) }

func dapCmd() *cobra.Command {
	var listen, logFile, token string
	var allowRemote bool
	var readTimeout time.Duration
	cmd := &cobra.Command{
		Use:   "dap [--listen 127.0.0.1:PORT] [--log FILE]",
		Short: "Serve the Debug Adapter Protocol (for VS Code) on stdio or TCP",
		Long: `Serve the Debug Adapter Protocol: VS Code (editors/vscode) starts
"pyreplay dap" and talks to it on stdin/stdout. With --listen, serve one
client at a time over TCP, on a loopback address only: another address
needs --allow-remote, and clients must then send the token (printed at
start, or --token) as "token" in their launch arguments. Logs go to stderr
or --log FILE, never to stdout.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var logOut io.Writer = os.Stderr
			srv := &dap.Server{Trace: os.Getenv("PYREPLAY_DAP_LOG") != ""}
			if logFile != "" {
				f, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600) // it holds values and the token
				if err != nil {
					return err
				}
				defer f.Close()
				logOut, srv.Trace = f, true
			}
			srv.Log = log.New(logOut, "pyreplay dap: ", log.LstdFlags|log.Lmicroseconds)
			if listen == "" {
				return srv.Serve(stdio{})
			}
			addr := listen
			if !strings.Contains(addr, ":") {
				addr = "127.0.0.1:" + addr
			} else if strings.HasPrefix(addr, ":") {
				addr = "127.0.0.1" + addr
			}
			ln, err := listenTCP(addr, allowRemote)
			if err != nil {
				return err
			}
			srv.StallTimeout = readTimeout
			if allowRemote || token != "" {
				if token == "" {
					b := make([]byte, 16)
					if _, err := rand.Read(b); err != nil {
						return err
					}
					token = hex.EncodeToString(b)
				}
				srv.Token = token
				fmt.Fprintf(os.Stderr, "pyreplay dap: listening on %s; clients must launch with \"token\": %q\n", ln.Addr(), token)
			} else {
				fmt.Fprintf(os.Stderr, "pyreplay dap: listening on %s\n", ln.Addr())
			}
			for {
				conn, err := ln.Accept()
				if err != nil {
					if errors.Is(err, net.ErrClosed) {
						return nil
					}
					return err
				}
				if srv.Trace {
					srv.Log.Printf("client %s connected", conn.RemoteAddr())
				}
				if err := srv.Serve(conn); err != nil {
					srv.Log.Printf("session ended: %v", err)
				}
			}
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "", "serve over TCP at HOST:PORT (default host 127.0.0.1) instead of stdio")
	cmd.Flags().BoolVar(&allowRemote, "allow-remote", false, "with --listen, accept a non-loopback address (clients then need the token)")
	cmd.Flags().StringVar(&token, "token", "", "with --listen, the token clients must send as \"token\" in launch (default: a random one, printed)")
	cmd.Flags().DurationVar(&readTimeout, "read-timeout", 30*time.Second, "with --listen, drop a client that has not launched this long after connecting, or stalls this long inside a message")
	cmd.Flags().StringVar(&logFile, "log", "", "append a protocol log (every message) to FILE; warnings go to stderr otherwise")
	return cmd
}

// listenTCP listens on addr, which must be a loopback address unless
// remote clients are allowed.
func listenTCP(addr string, allowRemote bool) (net.Listener, error) {
	ta, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("cannot listen on %s: %v", addr, err)
	}
	if !allowRemote && (ta.IP == nil || !ta.IP.IsLoopback()) {
		return nil, fmt.Errorf("refusing to listen on %s: it is not a loopback address, and a client that connects can run programs as you; use 127.0.0.1, or pass --allow-remote (clients then need a token)", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("cannot listen on %s: %v", addr, err)
	}
	return ln, nil
}

// stdio is the process's stdin and stdout as one connection.
type stdio struct{}

func (stdio) Read(p []byte) (int, error)  { return os.Stdin.Read(p) }
func (stdio) Write(p []byte) (int, error) { return os.Stdout.Write(p) }
func (stdio) Close() error                { return nil }
