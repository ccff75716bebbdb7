package conformance

import (
	"archive/tar"
	"io"
	"testing"
	"time"

	diffapi "github.com/containerd/containerd/api/services/diff/v1"
	snapshotsapi "github.com/containerd/containerd/api/services/snapshots/v1"
	"github.com/containerd/containerd/api/types"
	"github.com/containerd/containerd/archive/compression"
	"github.com/containerd/containerd/content"
	"github.com/containerd/containerd/mount"
	"github.com/containerd/continuity/fs/fstest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Fields containerd 2.x added to 1.6's requests, sent as 2.x clients send them (here as the
// unknown fields 1.6's generated structs carry): CommitSnapshotRequest.parent = 5,
// DiffRequest.source_date_epoch = 6, ApplyRequest.sync_fs = 4.
func TestContainerd2Fields(t *testing.T) {
	s := newServer(t)
	c := connect(s)
	raw := snapshotsapi.NewSnapshotsClient(s.conn)
	rawDiff := diffapi.NewDiffClient(s.conn)
	ctx := testContext()
	stringField := func(number byte, v string) []byte {
		return append([]byte{number<<3 | 2, byte(len(v))}, v...)
	}

	writeSnapshot(ctx, t, c.sn, "base-active", "", fstest.CreateFile("/f", []byte("f\n"), 0644))
	if err := c.sn.Commit(ctx, "base", "base-active"); err != nil {
		t.Fatal(err)
	}
	upper := writeSnapshot(ctx, t, c.sn, "child", "base", fstest.CreateFile("/g", []byte("g\n"), 0644))

	// A commit onto another parent (a rebase) is refused; onto its own parent it is a commit.
	_, err := raw.Commit(ctx, &snapshotsapi.CommitSnapshotRequest{Name: "rebased", Key: "child", XXX_unrecognized: stringField(5, "elsewhere")})
	expectCode(t, err, "FailedPrecondition")

	// source_date_epoch: every entry time in the layer is at most the epoch (here 1 s).
	lower, err := c.sn.View(ctx, "base-view", "base")
	if err != nil {
		t.Fatal(err)
	}
	epoch := []byte{0x08, 0x01} // Timestamp{seconds: 1}
	req := &diffapi.DiffRequest{Left: toProto(lower), Right: toProto(upper), MediaType: ocispec.MediaTypeImageLayerGzip,
		XXX_unrecognized: append([]byte{6<<3 | 2, byte(len(epoch))}, epoch...)}
	resp, err := rawDiff.Diff(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	layer := ocispec.Descriptor{MediaType: resp.Diff.MediaType, Digest: resp.Diff.Digest, Size: resp.Diff.Size_}
	ra, err := c.cs.ReaderAt(ctx, layer)
	if err != nil {
		t.Fatal(err)
	}
	r, err := compression.DecompressStream(content.NewReader(ra))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(r)
	entries := 0
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		entries++
		if h.ModTime.After(time.Unix(1, 0)) {
			t.Errorf("%s: mtime %v is after source_date_epoch", h.Name, h.ModTime)
		}
	}
	r.Close()
	ra.Close()
	if entries == 0 {
		t.Fatal("the layer is empty")
	}

	if _, err := raw.Commit(ctx, &snapshotsapi.CommitSnapshotRequest{Name: "committed", Key: "child", XXX_unrecognized: stringField(5, "base")}); err != nil {
		t.Fatalf("commit onto its own parent: %v", err)
	}

	// sync_fs: the layer applied, and the filesystem synced.
	target, err := c.sn.Prepare(ctx, "apply-target", "base")
	if err != nil {
		t.Fatal(err)
	}
	applied, err := rawDiff.Apply(ctx, &diffapi.ApplyRequest{Diff: resp.Diff, Mounts: toProto(target), XXX_unrecognized: []byte{4 << 3, 1}})
	if err != nil {
		t.Fatal(err)
	}
	if applied.Applied.Digest == "" {
		t.Fatal("no diffID")
	}
	want := fstest.Apply(fstest.CreateFile("/f", []byte("f\n"), 0644), fstest.CreateFile("/g", []byte("g\n"), 0644))
	if err := mount.WithReadonlyTempMount(ctx, target, func(root string) error {
		return fstest.CheckDirectoryEqualWithApplier(root, want)
	}); err != nil {
		t.Fatal(err)
	}
}

func toProto(ms []mount.Mount) []*types.Mount {
	var out []*types.Mount
	for _, m := range ms {
		out = append(out, &types.Mount{Type: m.Type, Source: m.Source, Options: m.Options})
	}
	return out
}
