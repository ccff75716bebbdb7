package conformance

import (
	"context"
	"testing"

	contentapi "github.com/containerd/containerd/api/services/content/v1"
	snapshotsapi "github.com/containerd/containerd/api/services/snapshots/v1"
	"github.com/containerd/containerd/content"
	contentproxy "github.com/containerd/containerd/content/proxy"
	contentsuite "github.com/containerd/containerd/content/testsuite"
	"github.com/containerd/containerd/snapshots"
	snapshotproxy "github.com/containerd/containerd/snapshots/proxy"
	snapshotsuite "github.com/containerd/containerd/snapshots/testsuite"
)

// containerd's snapshotter suite through its proxy client: one server per subtest.
func TestSnapshotterSuite(t *testing.T) {
	snapshotsuite.SnapshotterSuite(t, "Strata", func(ctx context.Context, root string) (snapshots.Snapshotter, func() error, error) {
		s, err := startServer(root)
		if err != nil {
			return nil, nil, err
		}
		return snapshotproxy.NewSnapshotter(snapshotsapi.NewSnapshotsClient(s.conn), "strata"), s.stop, nil
	})
}

// containerd's content store suite through its proxy client: one server per subtest.
func TestContentSuite(t *testing.T) {
	contentsuite.ContentSuite(t, "Strata", func(ctx context.Context, root string) (context.Context, content.Store, func() error, error) {
		s, err := startServer(root)
		if err != nil {
			return ctx, nil, nil, err
		}
		return ctx, contentproxy.NewContentStore(contentapi.NewContentClient(s.conn)), s.stop, nil
	})
}
