package conformance

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	contentapi "github.com/containerd/containerd/api/services/content/v1"
	snapshotsapi "github.com/containerd/containerd/api/services/snapshots/v1"
	"github.com/containerd/containerd/errdefs"
	"github.com/containerd/containerd/snapshots"
	"github.com/containerd/continuity/fs/fstest"
	ptypes "github.com/gogo/protobuf/types"
	digest "github.com/opencontainers/go-digest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// expectCode checks a raw gRPC error's code, or the errdefs class a containerd client turned it into.
func expectCode(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("expected %s, got success", want)
	}
	if s, ok := status.FromError(err); ok && s.Code().String() == want {
		return
	}
	classes := map[string]func(error) bool{
		"NotFound": errdefs.IsNotFound, "AlreadyExists": errdefs.IsAlreadyExists,
		"InvalidArgument": errdefs.IsInvalidArgument, "FailedPrecondition": errdefs.IsFailedPrecondition,
		"Unavailable": errdefs.IsUnavailable, "Unimplemented": errdefs.IsNotImplemented,
	}
	if is, ok := classes[want]; ok && is(err) {
		return
	}
	t.Fatalf("expected %s, got %v", want, err)
}

// Snapshot calls containerd's own store would refuse get the same codes, and change nothing.
func TestSnapshotsBadInputOverTheWire(t *testing.T) {
	s := newServer(t)
	c := connect(s)
	raw := snapshotsapi.NewSnapshotsClient(s.conn)
	ctx := testContext()

	_, err := raw.Stat(ctx, &snapshotsapi.StatSnapshotRequest{Snapshotter: "strata", Key: "default/1/missing"})
	expectCode(t, err, "NotFound")
	_, err = raw.Prepare(ctx, &snapshotsapi.PrepareSnapshotRequest{Key: "orphan", Parent: "no-such-parent"})
	expectCode(t, err, "NotFound")

	writeSnapshot(ctx, t, c.sn, "ns/1/active", "", fstest.CreateFile("/a", []byte("a"), 0644))
	_, err = raw.Prepare(ctx, &snapshotsapi.PrepareSnapshotRequest{Key: "ns/1/active"})
	expectCode(t, err, "AlreadyExists")
	_, err = raw.Prepare(ctx, &snapshotsapi.PrepareSnapshotRequest{Key: "child-of-active", Parent: "ns/1/active"})
	expectCode(t, err, "InvalidArgument")
	_, err = raw.Prepare(ctx, &snapshotsapi.PrepareSnapshotRequest{Key: ""})
	expectCode(t, err, "InvalidArgument")

	if _, err := raw.Commit(ctx, &snapshotsapi.CommitSnapshotRequest{Name: "ns/2/committed", Key: "ns/1/active", Labels: map[string]string{"containerd.io/snapshot.ref": "x"}}); err != nil {
		t.Fatal(err)
	}
	_, err = raw.Commit(ctx, &snapshotsapi.CommitSnapshotRequest{Name: "again", Key: "ns/2/committed"})
	expectCode(t, err, "FailedPrecondition")
	_, err = raw.Commit(ctx, &snapshotsapi.CommitSnapshotRequest{Name: "again", Key: "never-prepared"})
	expectCode(t, err, "NotFound")
	_, err = raw.Mounts(ctx, &snapshotsapi.MountsRequest{Key: "ns/2/committed"})
	expectCode(t, err, "FailedPrecondition")

	if _, err := raw.Prepare(ctx, &snapshotsapi.PrepareSnapshotRequest{Key: "ns/3/child", Parent: "ns/2/committed"}); err != nil {
		t.Fatal(err)
	}
	_, err = raw.Remove(ctx, &snapshotsapi.RemoveSnapshotRequest{Key: "ns/2/committed"})
	expectCode(t, err, "FailedPrecondition")
	_, err = raw.Remove(ctx, &snapshotsapi.RemoveSnapshotRequest{Key: "never-prepared"})
	expectCode(t, err, "NotFound")

	_, err = raw.Update(ctx, &snapshotsapi.UpdateSnapshotRequest{
		Info: snapshotsapi.Info{Name: "ns/2/committed", Parent: "other"}, UpdateMask: &ptypes.FieldMask{Paths: []string{"parent"}}})
	expectCode(t, err, "InvalidArgument")

	list, err := raw.List(ctx, &snapshotsapi.ListSnapshotsRequest{Filters: []string{`labels."unterminated`}})
	if err == nil {
		_, err = list.Recv()
	}
	expectCode(t, err, "InvalidArgument")

	// Labels round-trip, keys keep their slashes, and the refused calls changed nothing.
	info, err := c.sn.Stat(ctx, "ns/2/committed")
	if err != nil {
		t.Fatal(err)
	}
	if info.Labels["containerd.io/snapshot.ref"] != "x" || info.Parent != "" {
		t.Errorf("committed snapshot: %+v", info)
	}
	var keys []string
	if err := c.sn.Walk(ctx, func(_ context.Context, i snapshots.Info) error { keys = append(keys, i.Name); return nil }); err != nil {
		t.Fatal(err)
	}
	if strings.Join(keys, " ") != "ns/2/committed ns/3/child" {
		t.Errorf("snapshots after the refused calls: %v", keys)
	}

	// A request that is not a protobuf message at all.
	err = s.conn.Invoke(ctx, "/containerd.services.snapshots.v1.Snapshots/Stat", []byte{0xff, 0xff, 0xff}, new([]byte), grpc.ForceCodec(rawCodec{}))
	if status.Code(err) != codes.InvalidArgument && status.Code(err) != codes.Internal {
		t.Errorf("malformed request: %v", err)
	}
	if _, err := c.sn.Stat(ctx, "ns/2/committed"); err != nil {
		t.Fatalf("the server stopped serving after a malformed request: %v", err)
	}
}

// Content calls containerd's own store would refuse get the same codes; no partial blob is kept.
func TestContentBadInputOverTheWire(t *testing.T) {
	s := newServer(t)
	raw := contentapi.NewContentClient(s.conn)
	ctx := testContext()
	data := bytes.Repeat([]byte("strata"), 100_000)
	good := digest.FromBytes(data)

	_, err := raw.Info(ctx, &contentapi.InfoRequest{Digest: good})
	expectCode(t, err, "NotFound")
	_, err = raw.Info(ctx, &contentapi.InfoRequest{Digest: "sha256:not-hex"})
	expectCode(t, err, "InvalidArgument")
	_, err = raw.Delete(ctx, &contentapi.DeleteContentRequest{Digest: good})
	expectCode(t, err, "NotFound")
	_, err = raw.Abort(ctx, &contentapi.AbortRequest{Ref: "never-started"})
	expectCode(t, err, "NotFound")
	read, err := raw.Read(ctx, &contentapi.ReadContentRequest{Digest: good})
	if err == nil {
		_, err = read.Recv()
	}
	expectCode(t, err, "NotFound")

	write := func(reqs ...*contentapi.WriteContentRequest) ([]*contentapi.WriteContentResponse, error) {
		stream, err := raw.Write(ctx)
		if err != nil {
			return nil, err
		}
		defer stream.CloseSend()
		var out []*contentapi.WriteContentResponse
		for _, r := range reqs {
			if err := stream.Send(r); err != nil {
				return out, err
			}
			resp, err := stream.Recv()
			if err != nil {
				return out, err
			}
			out = append(out, resp)
		}
		return out, nil
	}

	_, err = write(&contentapi.WriteContentRequest{Action: contentapi.WriteActionStat})
	expectCode(t, err, "InvalidArgument")
	_, err = write(&contentapi.WriteContentRequest{Action: contentapi.WriteActionStat, Ref: "wrong-offset"},
		&contentapi.WriteContentRequest{Action: contentapi.WriteActionWrite, Ref: "wrong-offset", Offset: 0, Data: data[:10]},
		&contentapi.WriteContentRequest{Action: contentapi.WriteActionWrite, Ref: "wrong-offset", Offset: 5, Data: data[10:20]})
	expectCode(t, err, "OutOfRange")

	wrong := digest.FromString("something else")
	_, err = write(&contentapi.WriteContentRequest{Action: contentapi.WriteActionStat, Ref: "bad-digest"},
		&contentapi.WriteContentRequest{Action: contentapi.WriteActionCommit, Ref: "bad-digest", Data: data, Expected: wrong, Total: int64(len(data))})
	expectCode(t, err, "FailedPrecondition")
	_, err = write(&contentapi.WriteContentRequest{Action: contentapi.WriteActionStat, Ref: "bad-size"},
		&contentapi.WriteContentRequest{Action: contentapi.WriteActionCommit, Ref: "bad-size", Data: data, Total: int64(len(data)) + 1})
	expectCode(t, err, "FailedPrecondition")
	if _, err := raw.Info(ctx, &contentapi.InfoRequest{Digest: wrong}); status.Code(err) != codes.NotFound {
		t.Errorf("a blob was stored under the wrong digest: %v", err)
	}
	// The failed commit kept the ingest, as containerd's store does: the client may resume it.
	st, err := raw.Status(ctx, &contentapi.StatusRequest{Ref: "bad-digest"})
	if err != nil || st.Status.Offset != int64(len(data)) {
		t.Fatalf("ingest after a failed commit: %v %v", st, err)
	}
	resp, err := write(&contentapi.WriteContentRequest{Action: contentapi.WriteActionStat, Ref: "bad-digest"},
		&contentapi.WriteContentRequest{Action: contentapi.WriteActionCommit, Ref: "bad-digest", Offset: int64(len(data)), Expected: good, Total: int64(len(data))})
	if err != nil {
		t.Fatal(err)
	}
	if resp[1].Digest != good {
		t.Errorf("committed digest %s, want %s", resp[1].Digest, good)
	}
	_, err = write(&contentapi.WriteContentRequest{Action: contentapi.WriteActionStat, Ref: "exists", Expected: good})
	expectCode(t, err, "AlreadyExists")
	read, err = raw.Read(ctx, &contentapi.ReadContentRequest{Digest: good, Offset: int64(len(data)) + 1})
	if err == nil {
		_, err = read.Recv()
	}
	expectCode(t, err, "OutOfRange")

	// A client that vanishes mid-Write: the ingest stays, unlocked and resumable.
	cctx, cancel := context.WithCancel(ctx)
	stream, err := raw.Write(cctx)
	if err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte{7}, 3<<20)
	stream.Send(&contentapi.WriteContentRequest{Action: contentapi.WriteActionStat, Ref: "vanishing", Total: int64(len(big))})
	stream.Recv()
	stream.Send(&contentapi.WriteContentRequest{Action: contentapi.WriteActionWrite, Ref: "vanishing", Data: big[:1<<20]})
	stream.Recv()
	cancel()
	var resumed []*contentapi.WriteContentResponse
	for deadline := time.Now().Add(10 * time.Second); ; {
		resumed, err = write(&contentapi.WriteContentRequest{Action: contentapi.WriteActionStat, Ref: "vanishing"})
		if err == nil || status.Code(err) != codes.Unavailable || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil || resumed[0].Offset != 1<<20 {
		t.Fatalf("resuming after the client vanished: %v %v", resumed, err)
	}
	if _, err := write(&contentapi.WriteContentRequest{Action: contentapi.WriteActionStat, Ref: "vanishing"},
		&contentapi.WriteContentRequest{Action: contentapi.WriteActionCommit, Ref: "vanishing", Offset: 1 << 20, Data: big[1<<20:], Expected: digest.FromBytes(big)}); err != nil {
		t.Fatal(err)
	}

	// Only the two whole blobs are stored.
	list, err := raw.List(ctx, &contentapi.ListContentRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var blobs []string
	for {
		r, err := list.Recv()
		if err != nil {
			break
		}
		for _, i := range r.Info {
			blobs = append(blobs, string(i.Digest))
		}
	}
	if len(blobs) != 2 {
		t.Errorf("blobs: %v", blobs)
	}
}

// rawCodec sends bytes as they are, to send a malformed message.
type rawCodec struct{}

func (rawCodec) Marshal(v interface{}) ([]byte, error)      { return v.([]byte), nil }
func (rawCodec) Unmarshal(data []byte, v interface{}) error { *(v.(*[]byte)) = data; return nil }
func (rawCodec) Name() string                               { return "proto" }
