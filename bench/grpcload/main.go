// grpcload drives a containerd Snapshots and Content gRPC endpoint (strata serve, or containerd
// itself) with concurrent clients: each loops Prepare (over a small committed base), Stat,
// Commit, Remove, and a content Write of a fresh blob followed by its Delete. At the end it checks
// that nothing leaked (only the base snapshot, no blob, no ingest) and prints one JSON object:
// p50/p99 latencies per call, the Write throughput, the number of errors and of leftovers.
//
// Builds offline against Debian's containerd 1.6 sources:
//
//	GOPATH=/usr/share/gocode GO111MODULE=off go build -o grpcload ./bench/grpcload
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"sync"
	"time"

	contentapi "github.com/containerd/containerd/api/services/content/v1"
	snapshotsapi "github.com/containerd/containerd/api/services/snapshots/v1"
	"github.com/containerd/containerd/content"
	contentproxy "github.com/containerd/containerd/content/proxy"
	"github.com/containerd/containerd/mount"
	"github.com/containerd/containerd/namespaces"
	"github.com/containerd/containerd/pkg/dialer"
	"github.com/containerd/containerd/snapshots"
	snapshotproxy "github.com/containerd/containerd/snapshots/proxy"
	"github.com/containerd/continuity/fs/fstest"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"google.golang.org/grpc"
)

var gcRoot = map[string]string{"containerd.io/gc.root": "grpcload"}

type recorder struct {
	mu        sync.Mutex
	durations map[string][]time.Duration
	written   int64
	writeTime time.Duration
	errors    []string
}

func (r *recorder) time(call string, f func() error) error {
	start := time.Now()
	err := f()
	d := time.Since(start)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.errors = append(r.errors, fmt.Sprintf("%s: %v", call, err))
		return err
	}
	r.durations[call] = append(r.durations[call], d)
	return nil
}

func percentile(ds []time.Duration, p float64) float64 {
	if len(ds) == 0 {
		return 0
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	i := int(p * float64(len(ds)-1))
	return float64(ds[i].Microseconds()) / 1000
}

func main() {
	address := flag.String("address", "", "the gRPC unix socket")
	snapshotter := flag.String("snapshotter", "strata", "the snapshotter name sent in requests")
	namespace := flag.String("namespace", "grpcload", "the containerd namespace")
	clients := flag.Int("clients", 16, "concurrent clients")
	duration := flag.Duration("duration", time.Minute, "how long the clients run")
	blobSize := flag.Int("blob", 1<<20, "bytes per content Write")
	window := flag.Int("window", 0, "a fixed HTTP/2 window (0: grpc-go's dynamic windows, as containerd's clients use)")
	flag.Parse()

	ctx := namespaces.WithNamespace(context.Background(), *namespace)
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	options := []grpc.DialOption{grpc.WithInsecure(), grpc.WithBlock(), grpc.WithContextDialer(dialer.ContextDialer),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(16<<20), grpc.MaxCallSendMsgSize(16<<20))}
	if *window > 0 {
		options = append(options, grpc.WithInitialWindowSize(int32(*window)), grpc.WithInitialConnWindowSize(int32(*window)))
	}
	conn, err := grpc.DialContext(dctx, dialer.DialAddress(*address), options...)
	cancel()
	if err != nil {
		fail("dial %s: %v", *address, err)
	}
	sn := snapshotproxy.NewSnapshotter(snapshotsapi.NewSnapshotsClient(conn), *snapshotter)
	cs := contentproxy.NewContentStore(contentapi.NewContentClient(conn))

	// The base: a committed snapshot of 100 small files, so that a native Prepare copies something.
	mounts, err := sn.Prepare(ctx, "grpcload-base-active", "", snapshots.WithLabels(gcRoot))
	if err != nil {
		fail("prepare base: %v", err)
	}
	var files []fstest.Applier
	for i := 0; i < 100; i++ {
		files = append(files, fstest.CreateFile(fmt.Sprintf("/file-%d", i), bytes.Repeat([]byte{byte(i)}, 4096), 0644))
	}
	if err := mount.WithTempMount(ctx, mounts, fstest.Apply(files...).Apply); err != nil {
		fail("write base: %v", err)
	}
	if err := sn.Commit(ctx, "grpcload-base", "grpcload-base-active", snapshots.WithLabels(gcRoot)); err != nil {
		fail("commit base: %v", err)
	}

	rec := &recorder{durations: map[string][]time.Duration{}}
	deadline := time.Now().Add(*duration)
	var wg sync.WaitGroup
	for c := 0; c < *clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			blob := make([]byte, *blobSize)
			for n := 0; time.Now().Before(deadline); n++ {
				key := fmt.Sprintf("grpcload/%d/%d", c, n)
				if rec.time("prepare", func() error {
					_, err := sn.Prepare(ctx, key, "grpcload-base", snapshots.WithLabels(gcRoot))
					return err
				}) != nil {
					continue
				}
				rec.time("stat", func() error { _, err := sn.Stat(ctx, key); return err })
				if rec.time("commit", func() error { return sn.Commit(ctx, key+"-c", key, snapshots.WithLabels(gcRoot)) }) == nil {
					rec.time("remove", func() error { return sn.Remove(ctx, key+"-c") })
				}
				rand.Read(blob)
				d := digest.FromBytes(blob)
				start := time.Now()
				if rec.time("write", func() error {
					return content.WriteBlob(ctx, cs, key, bytes.NewReader(blob),
						ocispec.Descriptor{Digest: d, Size: int64(len(blob))}, content.WithLabels(gcRoot))
				}) == nil {
					rec.mu.Lock()
					rec.written += int64(len(blob))
					rec.writeTime += time.Since(start)
					rec.mu.Unlock()
					rec.time("delete", func() error { return cs.Delete(ctx, d) })
				}
			}
		}(c)
	}
	wg.Wait()

	// Leftovers: anything but the base.
	var leftovers []string
	sn.Walk(ctx, func(_ context.Context, i snapshots.Info) error {
		if i.Name != "grpcload-base" {
			leftovers = append(leftovers, "snapshot "+i.Name)
		}
		return nil
	})
	cs.Walk(ctx, func(i content.Info) error { leftovers = append(leftovers, "blob "+string(i.Digest)); return nil })
	if st, err := cs.ListStatuses(ctx); err == nil {
		for _, s := range st {
			leftovers = append(leftovers, "ingest "+s.Ref)
		}
	}
	sn.Remove(ctx, "grpcload-base")

	out := map[string]interface{}{
		"clients": *clients, "seconds": duration.Seconds(), "errors": len(rec.errors), "leftovers": leftovers,
		"writeMiBPerSecond": float64(rec.written) / (1 << 20) / duration.Seconds(),
	}
	for call, ds := range rec.durations {
		out[call] = map[string]interface{}{"count": len(ds), "p50ms": percentile(ds, 0.5), "p99ms": percentile(ds, 0.99)}
	}
	if len(rec.errors) > 0 {
		out["firstErrors"] = rec.errors[:min(5, len(rec.errors))]
	}
	json.NewEncoder(os.Stdout).Encode(out)
}

func min(a, b int) int {
	if a < b {
		return a
	}
	return b
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "grpcload: "+format+"\n", args...)
	os.Exit(1)
}
