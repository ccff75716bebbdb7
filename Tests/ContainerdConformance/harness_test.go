// Package conformance runs containerd's own conformance suites, its Go clients and raw gRPC
// calls against `strata serve`. It builds offline in GOPATH mode against the containerd 1.6
// sources Debian installs (golang-github-containerd-containerd-dev):
//
//	GOPATH=/usr/share/gocode GO111MODULE=off STRATA_BIN=.build/debug/strata go test ./Tests/ContainerdConformance
//
// STRATA_SNAPSHOTTER picks the backend (overlay or native). Every test starts its own server.
package conformance

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/containerd/containerd/pkg/dialer"
	"google.golang.org/grpc"
)

// server is one `strata serve` process and a client connection to it.
type server struct {
	cmd    *exec.Cmd
	conn   *grpc.ClientConn
	root   string
	socket string
	stderr *syncBuffer
	done   chan error
}

// syncBuffer collects the server's stderr while it runs.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startServer runs `strata serve` with its state root and socket in dir and connects to it.
func startServer(dir string, extra ...string) (*server, error) {
	return startServerAt(filepath.Join(dir, "state"), filepath.Join(dir, "strata.sock"), extra...)
}

func startServerAt(root, socket string, extra ...string) (*server, error) {
	bin := os.Getenv("STRATA_BIN")
	if bin == "" {
		return nil, fmt.Errorf("STRATA_BIN is not set: it must name the strata binary")
	}
	args := []string{"serve", "--root", root, "--address", socket}
	if sn := os.Getenv("STRATA_SNAPSHOTTER"); sn != "" {
		args = append(args, "--snapshotter", sn)
	}
	args = append(args, extra...)
	s := &server{cmd: exec.Command(bin, args...), root: root, socket: socket, stderr: &syncBuffer{}, done: make(chan error, 1)}
	s.cmd.Stderr = s.stderr
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { s.done <- s.cmd.Wait() }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.Dial("unix", socket)
		if err == nil {
			c.Close()
			break
		}
		select {
		case err := <-s.done:
			return nil, fmt.Errorf("strata serve exited (%v): %s", err, s.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			s.cmd.Process.Kill()
			return nil, fmt.Errorf("strata serve did not listen within 30 s: %s", s.stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	conn, err := dial(socket)
	if err != nil {
		s.cmd.Process.Kill()
		return nil, err
	}
	s.conn = conn
	return s, nil
}

// dial connects as containerd's proxy plugins do: insecure, over the unix socket, 16 MiB messages.
func dial(socket string) (*grpc.ClientConn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return grpc.DialContext(ctx, dialer.DialAddress(socket),
		grpc.WithInsecure(), grpc.WithBlock(), grpc.WithContextDialer(dialer.ContextDialer),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(16<<20), grpc.MaxCallSendMsgSize(16<<20)))
}

// stop sends SIGTERM and expects the server to drain and exit 0.
func (s *server) stop() error {
	s.conn.Close()
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		if err != nil {
			return fmt.Errorf("strata serve exited with %v on SIGTERM: %s", err, s.stderr.String())
		}
		return nil
	case <-time.After(60 * time.Second):
		s.cmd.Process.Kill()
		return fmt.Errorf("strata serve did not exit within 60 s of SIGTERM: %s", s.stderr.String())
	}
}

// kill ends the server with SIGKILL, as a crash would.
func (s *server) kill() {
	s.conn.Close()
	s.cmd.Process.Kill()
	<-s.done
}

func newServer(t *testing.T, extra ...string) *server {
	t.Helper()
	s, err := startServer(t.TempDir(), extra...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if s.cmd.ProcessState == nil {
			if err := s.stop(); err != nil {
				t.Error(err)
			}
		}
	})
	return s
}
