package conformance

import (
	"strings"
	"testing"

	"github.com/containerd/containerd/content/local"
	"github.com/containerd/containerd/diff/walking"
	"github.com/containerd/containerd/mount"
	"github.com/containerd/containerd/rootfs"
	"github.com/containerd/containerd/snapshots"
	"github.com/containerd/containerd/snapshots/overlay"
	"github.com/containerd/continuity/fs"
	"github.com/containerd/continuity/fs/fstest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// The Diff service given containerd's own overlayfs snapshots (containerd's snapshotter, not
// Strata's): rootfs.CreateDiff of an Active snapshot (its upperdir over its parent's View, a bind
// mount in 1.6) and of a committed one (a View whose top lowerdir is the layer, as BuildKit
// diffs) is diffed from the upper directory alone, says so in the server's log, and unpacks on
// the parent to the same tree as containerd's walking differ's layer and as the snapshot itself.
func TestDiffServiceReadsContainerdOverlayfsUpperDirectories(t *testing.T) {
	s := newServer(t, "--log-level", "debug")
	c := connect(s)
	ctx := testContext()
	sn, err := overlay.NewSnapshotter(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer sn.Close()

	writeSnapshot(ctx, t, sn, "base-active", "", baseTree)
	if err := sn.Commit(ctx, "base", "base-active"); err != nil {
		t.Fatal(err)
	}
	upper := writeSnapshot(ctx, t, sn, "container", "base", containerChanges)
	want := t.TempDir()
	if err := mount.WithReadonlyTempMount(ctx, upper, func(root string) error { return fs.CopyDir(want, root) }); err != nil {
		t.Fatal(err)
	}
	lower, err := sn.View(ctx, "base-view", "base")
	if err != nil {
		t.Fatal(err)
	}
	store, err := local.NewLabeledStore(t.TempDir(), labelStore{})
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := walking.NewWalkingDiff(store).Compare(ctx, lower, upper)
	if err != nil {
		t.Fatal(err)
	}
	fromTheirs := t.TempDir()
	unpackTree(ctx, t, fromTheirs, lower, store, theirs)

	check := func(name string, layer ocispec.Descriptor) {
		t.Helper()
		got := t.TempDir()
		unpackTree(ctx, t, got, lower, c.cs, layer)
		if err := fstest.CheckDirectoryEqual(fromTheirs, got); err != nil {
			t.Errorf("%s: Strata's layer and the walking differ's unpack differently: %v", name, err)
		}
		if err := fstest.CheckDirectoryEqual(want, got); err != nil {
			t.Errorf("%s: Strata's layer on its parent is not the snapshot: %v", name, err)
		}
	}
	fastPaths := func() int { return strings.Count(s.stderr.String(), "diff of mounts: overlay upper directory") }

	// An Active snapshot: its mounts against a View of its parent.
	active, err := rootfs.CreateDiff(ctx, "container", sn, c.differ)
	if err != nil {
		t.Fatal(err)
	}
	if fastPaths() != 1 {
		t.Errorf("the Active snapshot's diff did not read its upper directory: %s", s.stderr.String())
	}
	check("active", active)

	// The same layer committed: a View of it against a View of its parent.
	if err := sn.Commit(ctx, "container-committed", "container"); err != nil {
		t.Fatal(err)
	}
	info, err := sn.Stat(ctx, "container-committed")
	if err != nil || info.Kind != snapshots.KindCommitted {
		t.Fatalf("commit: %v %v", info.Kind, err)
	}
	committed, err := rootfs.CreateDiff(ctx, "container-committed", sn, c.differ)
	if err != nil {
		t.Fatal(err)
	}
	if fastPaths() != 2 {
		t.Errorf("the committed snapshot's diff did not read its layer directory: %s", s.stderr.String())
	}
	check("committed", committed)
}
