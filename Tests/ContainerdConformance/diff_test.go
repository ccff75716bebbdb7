package conformance

import (
	"context"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/containerd/containerd"
	contentapi "github.com/containerd/containerd/api/services/content/v1"
	diffapi "github.com/containerd/containerd/api/services/diff/v1"
	snapshotsapi "github.com/containerd/containerd/api/services/snapshots/v1"
	"github.com/containerd/containerd/archive"
	"github.com/containerd/containerd/archive/compression"
	"github.com/containerd/containerd/content"
	"github.com/containerd/containerd/content/local"
	contentproxy "github.com/containerd/containerd/content/proxy"
	"github.com/containerd/containerd/diff"
	"github.com/containerd/containerd/diff/walking"
	"github.com/containerd/containerd/mount"
	"github.com/containerd/containerd/namespaces"
	"github.com/containerd/containerd/rootfs"
	"github.com/containerd/containerd/snapshots"
	snapshotproxy "github.com/containerd/containerd/snapshots/proxy"
	"github.com/containerd/continuity/fs"
	"github.com/containerd/continuity/fs/fstest"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

var baseTree = fstest.Apply(
	fstest.CreateDir("/etc", 0755),
	fstest.CreateFile("/etc/hostname", []byte("base\n"), 0644),
	fstest.CreateFile("/etc/keep", []byte("unchanged\n"), 0644),
	fstest.CreateDir("/usr/lib/app", 0755),
	fstest.CreateFile("/usr/lib/app/a.so", []byte("library a\n"), 0755),
	fstest.CreateFile("/usr/lib/app/b.so", []byte("library b\n"), 0755),
	fstest.CreateDir("/var/cache", 0700),
	fstest.CreateFile("/var/cache/old", []byte("stale\n"), 0600),
	fstest.Symlink("/etc/hostname", "/hostname"),
)

// A container's changes: add, modify, delete, a directory removed and one emptied and refilled,
// a chmod, an owner change, a hard link, a symlink retargeted, a type change.
var containerChanges = fstest.Apply(
	fstest.CreateFile("/etc/hostname", []byte("container\n"), 0644),
	fstest.CreateFile("/etc/new", []byte("added\n"), 0640),
	fstest.RemoveAll("/usr/lib/app/b.so"),
	fstest.RemoveAll("/var/cache"),
	fstest.CreateDir("/var/cache", 0755),
	fstest.CreateFile("/var/cache/fresh", []byte("fresh\n"), 0600),
	fstest.Chmod("/usr/lib/app/a.so", 0700),
	fstest.Chown("/etc/keep", 1000, 1000),
	fstest.Link("/etc/new", "/etc/new-link"),
	fstest.Remove("/hostname"),
	fstest.Symlink("/etc/new", "/hostname"),
	fstest.CreateDir("/tmp", 01777),
	fstest.CreateFile("/tmp/x", []byte("x\n"), 0644),
)

type clients struct {
	sn     snapshots.Snapshotter
	cs     content.Store
	differ containerd.DiffService
}

func connect(s *server) clients {
	return clients{
		sn:     snapshotproxy.NewSnapshotter(snapshotsapi.NewSnapshotsClient(s.conn), "strata"),
		cs:     contentproxy.NewContentStore(contentapi.NewContentClient(s.conn)),
		differ: containerd.NewDiffServiceFromClient(diffapi.NewDiffClient(s.conn)),
	}
}

func testContext() context.Context {
	return namespaces.WithNamespace(context.Background(), "conformance")
}

// writeSnapshot prepares key over parent, applies changes through its mounts and leaves it Active.
func writeSnapshot(ctx context.Context, t *testing.T, sn snapshots.Snapshotter, key, parent string, changes fstest.Applier) []mount.Mount {
	t.Helper()
	mounts, err := sn.Prepare(ctx, key, parent)
	if err != nil {
		t.Fatal(err)
	}
	if err := mount.WithTempMount(ctx, mounts, changes.Apply); err != nil {
		t.Fatal(err)
	}
	return mounts
}

// unpackTree copies the tree of mounts into dir and applies each layer (a blob in cs) on it.
func unpackTree(ctx context.Context, t *testing.T, dir string, base []mount.Mount, cs content.Store, layers ...ocispec.Descriptor) {
	t.Helper()
	if err := mount.WithReadonlyTempMount(ctx, base, func(root string) error { return fs.CopyDir(dir, root) }); err != nil {
		t.Fatal(err)
	}
	for _, l := range layers {
		ra, err := cs.ReaderAt(ctx, l)
		if err != nil {
			t.Fatal(err)
		}
		r, err := compression.DecompressStream(content.NewReader(ra))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := archive.Apply(ctx, dir, r); err != nil {
			t.Fatalf("apply %s: %v", l.Digest, err)
		}
		r.Close()
		ra.Close()
	}
}

// diffIDOf is the digest of the layer's uncompressed tar stream.
func diffIDOf(ctx context.Context, t *testing.T, cs content.Store, l ocispec.Descriptor) digest.Digest {
	t.Helper()
	ra, err := cs.ReaderAt(ctx, l)
	if err != nil {
		t.Fatal(err)
	}
	defer ra.Close()
	r, err := compression.DecompressStream(content.NewReader(ra))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	d := digest.Canonical.Digester()
	if _, err := io.Copy(d.Hash(), r); err != nil {
		t.Fatal(err)
	}
	return d.Digest()
}

// The Diff service, through containerd's Go client: CreateDiff of an Active snapshot against its
// parent unpacks to the same tree as containerd's walking differ's layer of the same change (and
// as the snapshot itself); Apply of either layer onto prepared mounts returns its diffID and
// gives that tree.
func TestDiffServiceAgreesWithTheWalkingDiffer(t *testing.T) {
	s := newServer(t, "--log-level", "debug")
	c := connect(s)
	ctx := testContext()

	writeSnapshot(ctx, t, c.sn, "base-active", "", baseTree)
	if err := c.sn.Commit(ctx, "base", "base-active"); err != nil {
		t.Fatal(err)
	}
	upper := writeSnapshot(ctx, t, c.sn, "container", "base", containerChanges)

	start := time.Now()
	ours, err := rootfs.CreateDiff(ctx, "container", c.sn, c.differ)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Strata's layer %s (%d bytes) in %v", ours.Digest, ours.Size, time.Since(start))
	// Its own snapshot against a View of its parent: the snapshot fast path, not a walk.
	fast := map[string]string{"overlay": "overlay-upper", "native": "evidence"}[os.Getenv("STRATA_SNAPSHOTTER")]
	if fast == "" {
		fast = "overlay-upper"
	}
	if log := s.stderr.String(); !strings.Contains(log, "diff of snapshot container against its parent: "+fast) {
		t.Errorf("the diff did not take the %s fast path: %s", fast, log)
	}
	if ours.MediaType != ocispec.MediaTypeImageLayerGzip {
		t.Errorf("media type %q, want %q", ours.MediaType, ocispec.MediaTypeImageLayerGzip)
	}
	if _, err := c.cs.Info(ctx, ours.Digest); err != nil {
		t.Fatalf("the layer is not in Strata's content store: %v", err)
	}

	local, err := local.NewLabeledStore(t.TempDir(), labelStore{})
	if err != nil {
		t.Fatal(err)
	}
	lower, err := c.sn.View(ctx, "base-view", "base")
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := walking.NewWalkingDiff(local).Compare(ctx, lower, upper)
	if err != nil {
		t.Fatal(err)
	}

	want, fromOurs, fromTheirs := t.TempDir(), t.TempDir(), t.TempDir()
	if err := mount.WithReadonlyTempMount(ctx, upper, func(root string) error { return fs.CopyDir(want, root) }); err != nil {
		t.Fatal(err)
	}
	unpackTree(ctx, t, fromOurs, lower, c.cs, ours)
	unpackTree(ctx, t, fromTheirs, lower, local, theirs)
	if err := fstest.CheckDirectoryEqual(fromTheirs, fromOurs); err != nil {
		t.Fatalf("Strata's layer and the walking differ's unpack differently: %v", err)
	}
	if err := fstest.CheckDirectoryEqual(want, fromOurs); err != nil {
		t.Fatalf("Strata's layer on its parent is not the snapshot: %v", err)
	}

	// Apply: Strata's own layer, and containerd's copied into Strata's store.
	if err := content.WriteBlob(ctx, c.cs, "walking-layer", content.NewReader(mustReaderAt(ctx, t, local, theirs)), theirs); err != nil {
		t.Fatal(err)
	}
	for i, layer := range []ocispec.Descriptor{ours, theirs} {
		key := []string{"apply-ours", "apply-theirs"}[i]
		mounts, err := c.sn.Prepare(ctx, key, "base")
		if err != nil {
			t.Fatal(err)
		}
		applied, err := c.differ.Apply(ctx, layer, mounts)
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		if wantID := diffIDOf(ctx, t, c.cs, layer); applied.Digest != wantID {
			t.Errorf("%s: Apply returned %s, the layer's diffID is %s", key, applied.Digest, wantID)
		}
		if applied.MediaType != ocispec.MediaTypeImageLayer {
			t.Errorf("%s: applied media type %q", key, applied.MediaType)
		}
		got := t.TempDir()
		if err := mount.WithReadonlyTempMount(ctx, mounts, func(root string) error { return fs.CopyDir(got, root) }); err != nil {
			t.Fatal(err)
		}
		if err := fstest.CheckDirectoryEqual(want, got); err != nil {
			t.Errorf("%s: the applied snapshot differs from the container's: %v", key, err)
		}
	}

	// Mounts that are not the partition's own snapshots are mounted and walked.
	walked, err := c.differ.Compare(ctx, []mount.Mount{{Type: "bind", Source: fromTheirs, Options: []string{"rbind", "ro"}}},
		[]mount.Mount{{Type: "bind", Source: want, Options: []string{"rbind", "ro"}}})
	if err != nil {
		t.Fatal(err)
	}
	if walked.Size == 0 {
		t.Errorf("a diff of two equal trees should still be a (small, empty) layer")
	}
}

// Media types Strata does not write or apply are Unimplemented, so containerd tries its next differ.
func TestDiffServiceUnknownMediaTypeIsUnimplemented(t *testing.T) {
	s := newServer(t)
	c := connect(s)
	ctx := testContext()
	mounts := writeSnapshot(ctx, t, c.sn, "a", "", fstest.CreateFile("/f", []byte("f"), 0644))
	_, err := c.differ.Apply(ctx, ocispec.Descriptor{MediaType: "application/vnd.example.layer.v1.tar+xz", Digest: digest.FromString("x"), Size: 1}, mounts)
	expectCode(t, err, "Unimplemented")
	view, _ := c.sn.View(ctx, "v", "")
	_, err = c.differ.Compare(ctx, view, mounts, diff.WithMediaType("application/vnd.example.layer.v1.tar+xz"))
	expectCode(t, err, "Unimplemented")
}

func mustReaderAt(ctx context.Context, t *testing.T, cs content.Store, d ocispec.Descriptor) content.ReaderAt {
	t.Helper()
	ra, err := cs.ReaderAt(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ra.Close() })
	return ra
}

// labelStore keeps the walking differ's labels (its uncompressed label) in memory.
type labelStore map[digest.Digest]map[string]string

func (s labelStore) Get(d digest.Digest) (map[string]string, error) { return s[d], nil }

func (s labelStore) Set(d digest.Digest, l map[string]string) error {
	s[d] = l
	return nil
}

func (s labelStore) Update(d digest.Digest, l map[string]string) (map[string]string, error) {
	if s[d] == nil {
		s[d] = map[string]string{}
	}
	for k, v := range l {
		if v == "" {
			delete(s[d], k)
		} else {
			s[d][k] = v
		}
	}
	return s[d], nil
}
