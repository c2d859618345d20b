package main

import (
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/pyreplay/pyreplay/dap"
)

func init() { extraCommands = append(extraCommands, dapCmd) }

func dapCmd() *cobra.Command {
	var listen, logFile string
	cmd := &cobra.Command{
		Use:   "dap [--listen 127.0.0.1:PORT] [--log FILE]",
		Short: "Serve the Debug Adapter Protocol (for VS Code) on stdio or TCP",
		Long: `Serve the Debug Adapter Protocol: VS Code (editors/vscode) starts
"pyreplay dap" and talks to it on stdin/stdout. With --listen, serve one
client at a time over TCP (loopback unless an address says otherwise).
Logs go to stderr or --log FILE, never to stdout.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var logOut io.Writer = os.Stderr
			srv := &dap.Server{Trace: os.Getenv("PYREPLAY_DAP_LOG") != ""}
			if logFile != "" {
				f, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
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
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("cannot listen on %s: %v", addr, err)
			}
			fmt.Fprintf(os.Stderr, "pyreplay dap: listening on %s\n", ln.Addr())
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
	cmd.Flags().StringVar(&logFile, "log", "", "append a protocol log (every message) to FILE; warnings go to stderr otherwise")
	return cmd
}

// stdio is the process's stdin and stdout as one connection.
type stdio struct{}

func (stdio) Read(p []byte) (int, error)  { return os.Stdin.Read(p) }
func (stdio) Write(p []byte) (int, error) { return os.Stdout.Write(p) }
func (stdio) Close() error                { return nil }
