package conformance

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	contentapi "github.com/containerd/containerd/api/services/content/v1"
	"github.com/containerd/continuity/fs/fstest"
	digest "github.com/opencontainers/go-digest"
	"golang.org/x/net/http2"
)

// SIGTERM lets a call in flight finish (here a Write stream, mid-blob) and exits 0.
func TestSigtermDrainsCallsInFlight(t *testing.T) {
	dir := t.TempDir()
	s, err := startServer(dir)
	if err != nil {
		t.Fatal(err)
	}
	raw := contentapi.NewContentClient(s.conn)
	ctx := testContext()
	data := bytes.Repeat([]byte("drain"), 1<<20)
	stream, err := raw.Write(ctx)
	if err != nil {
		t.Fatal(err)
	}
	send := func(r *contentapi.WriteContentRequest) *contentapi.WriteContentResponse {
		t.Helper()
		if err := stream.Send(r); err != nil {
			t.Fatal(err)
		}
		resp, err := stream.Recv()
		if err != nil {
			t.Fatalf("%v: %s", err, s.stderr.String())
		}
		return resp
	}
	send(&contentapi.WriteContentRequest{Action: contentapi.WriteActionStat, Ref: "drain"})
	send(&contentapi.WriteContentRequest{Action: contentapi.WriteActionWrite, Ref: "drain", Data: data[:1<<20]})
	s.cmd.Process.Signal(syscall.SIGTERM)
	send(&contentapi.WriteContentRequest{Action: contentapi.WriteActionWrite, Ref: "drain", Offset: 1 << 20, Data: data[1<<20 : 3<<20]})
	resp := send(&contentapi.WriteContentRequest{Action: contentapi.WriteActionCommit, Ref: "drain", Offset: 3 << 20, Data: data[3<<20:], Expected: digest.FromBytes(data)})
	stream.CloseSend()
	if resp.Digest != digest.FromBytes(data) {
		t.Fatalf("committed %s", resp.Digest)
	}
	if err := <-s.done; err != nil {
		t.Fatalf("exit after SIGTERM: %v: %s", err, s.stderr.String())
	}
	s.conn.Close()

	s, err = startServer(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.stop()
	if _, err := contentapi.NewContentClient(s.conn).Info(ctx, &contentapi.InfoRequest{Digest: digest.FromBytes(data)}); err != nil {
		t.Fatalf("the blob committed while draining is not there after a restart: %v", err)
	}
}

// After SIGKILL the stale socket is replaced, snapshots are as they were, and an ingest resumes.
func TestRestartAfterSigkill(t *testing.T) {
	dir := t.TempDir()
	s, err := startServer(dir)
	if err != nil {
		t.Fatal(err)
	}
	c := connect(s)
	ctx := testContext()
	writeSnapshot(ctx, t, c.sn, "a", "", fstest.CreateFile("/f", []byte("f\n"), 0644))
	if err := c.sn.Commit(ctx, "committed", "a"); err != nil {
		t.Fatal(err)
	}
	writeSnapshot(ctx, t, c.sn, "active", "committed", fstest.CreateFile("/g", []byte("g\n"), 0644))
	raw := contentapi.NewContentClient(s.conn)
	data := bytes.Repeat([]byte("k"), 2<<20)
	stream, _ := raw.Write(ctx)
	stream.Send(&contentapi.WriteContentRequest{Action: contentapi.WriteActionStat, Ref: "killed"})
	stream.Recv()
	stream.Send(&contentapi.WriteContentRequest{Action: contentapi.WriteActionWrite, Ref: "killed", Data: data[:1<<20]})
	if _, err := stream.Recv(); err != nil {
		t.Fatal(err)
	}
	s.kill()
	if _, err := os.Stat(filepath.Join(dir, "strata.sock")); err != nil {
		t.Fatalf("the killed server's socket should be left behind: %v", err)
	}

	s, err = startServer(dir)
	if err != nil {
		t.Fatalf("restart on the stale socket: %v", err)
	}
	defer s.stop()
	c = connect(s)
	raw = contentapi.NewContentClient(s.conn)
	if info, err := c.sn.Stat(ctx, "active"); err != nil || info.Parent != "committed" {
		t.Fatalf("active snapshot after the restart: %+v %v", info, err)
	}
	st, err := raw.Status(ctx, &contentapi.StatusRequest{Ref: "killed"})
	if err != nil || st.Status.Offset != 1<<20 {
		t.Fatalf("ingest after the restart: %+v %v", st, err)
	}
	stream, _ = raw.Write(ctx)
	stream.Send(&contentapi.WriteContentRequest{Action: contentapi.WriteActionStat, Ref: "killed"})
	stream.Recv()
	stream.Send(&contentapi.WriteContentRequest{Action: contentapi.WriteActionCommit, Ref: "killed", Offset: 1 << 20, Data: data[1<<20:], Expected: digest.FromBytes(data)})
	if resp, err := stream.Recv(); err != nil || resp.Digest != digest.FromBytes(data) {
		t.Fatalf("resumed commit: %v %v", resp, err)
	}
	stream.CloseSend()
}

// A live server's socket is never taken over; a second server on one root is refused; a path
// that is not a socket is left alone.
func TestLiveSocketAndRootAreRefused(t *testing.T) {
	dir := t.TempDir()
	s := newServer(t)
	run := func(root, socket string) string {
		out, err := exec.Command(os.Getenv("STRATA_BIN"), "serve", "--root", root, "--address", socket).CombinedOutput()
		if err == nil {
			t.Fatalf("a second server started on %s / %s", root, socket)
		}
		return string(out)
	}
	if out := run(filepath.Join(dir, "other"), s.socket); !strings.Contains(out, "another server is listening") {
		t.Errorf("same socket: %s", out)
	}
	if out := run(s.root, filepath.Join(dir, "second.sock")); !strings.Contains(out, "another strata serve") {
		t.Errorf("same root: %s", out)
	}
	file := filepath.Join(dir, "not-a-socket")
	os.WriteFile(file, []byte("keep me"), 0644)
	if out := run(filepath.Join(dir, "third"), file); !strings.Contains(out, "not a socket") {
		t.Errorf("regular file: %s", out)
	}
	if b, _ := os.ReadFile(file); string(b) != "keep me" {
		t.Errorf("the file at the address was changed")
	}
	if _, err := connect(s).sn.Stat(testContext(), "missing"); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("the first server stopped answering: %v", err)
	}
}

// grpc-go clients send a PING for each burst of data they receive (to size their windows): far
// more than swift-nio-http2's 200 per 30 s, after which it would close the connection. All are
// answered, and the connection stays open.
func TestClientPingsAreAnsweredHoweverMany(t *testing.T) {
	s := newServer(t)
	c, err := net.Dial("unix", s.socket)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte(http2.ClientPreface))
	fr := http2.NewFramer(c, c)
	fr.WriteSettings()
	const pings = 1000
	go func() {
		for i := 0; i < pings; i++ {
			fr.WritePing(false, [8]byte{byte(i), byte(i >> 8)})
		}
	}()
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	for acks := 0; acks < pings; {
		f, err := fr.ReadFrame()
		if err != nil {
			t.Fatalf("after %d acknowledgements: %v", acks, err)
		}
		switch f := f.(type) {
		case *http2.PingFrame:
			if f.IsAck() {
				if want := [8]byte{byte(acks), byte(acks >> 8)}; f.Data != want {
					t.Fatalf("acknowledgement %d carries %v", acks, f.Data)
				}
				acks++
			}
		case *http2.GoAwayFrame:
			t.Fatalf("GOAWAY %v %q after %d acknowledgements", f.ErrCode, f.DebugData(), acks)
		}
	}
	if _, err := connect(s).sn.Stat(testContext(), "missing"); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("the server stopped answering calls: %v", err)
	}
}
