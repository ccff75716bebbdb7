package conformance

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/containerd/containerd/archive"
	"github.com/containerd/containerd/content"
	"github.com/containerd/containerd/diff"
	"github.com/containerd/containerd/mount"
	"github.com/containerd/continuity/fs/fstest"
	"github.com/gogo/protobuf/proto"
	"github.com/gogo/protobuf/types"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// The Diff service applies a layer of a media type only a declared stream processor takes
// (`strata serve --config`), handing the processor the Apply request's payload on descriptor 3
// as containerd does: the marshalled Any.
func TestDiffApplyPassesPayloadsToStreamProcessors(t *testing.T) {
	dir := t.TempDir()
	seen := filepath.Join(dir, "payload-seen")
	config := filepath.Join(dir, "strata.toml")
	toml := `[stream_processors."payload-check"]
  accepts = ["application/vnd.example.layer.v1.tar+check"]
  returns = "application/vnd.oci.image.layer.v1.tar"
  path = "sh"
  args = ["-c", "cat <&3 > '` + seen + `'; cat"]
`
	if err := os.WriteFile(config, []byte(toml), 0o644); err != nil {
		t.Fatal(err)
	}
	s := newServer(t, "--config", config)
	c := connect(s)
	ctx := testContext()

	// The layer: a plain tar of one file, stored under the custom media type.
	src := t.TempDir()
	if err := fstest.Apply(fstest.CreateFile("/checked", []byte("through the processor\n"), 0o644)).Apply(src); err != nil {
		t.Fatal(err)
	}
	var layer bytes.Buffer
	if err := archive.WriteDiff(ctx, &layer, "", src); err != nil {
		t.Fatal(err)
	}
	desc := ocispec.Descriptor{
		MediaType: "application/vnd.example.layer.v1.tar+check",
		Digest:    digest.FromBytes(layer.Bytes()),
		Size:      int64(layer.Len()),
	}
	if err := content.WriteBlob(ctx, c.cs, "check-layer", bytes.NewReader(layer.Bytes()), desc); err != nil {
		t.Fatal(err)
	}

	payload := &types.Any{TypeUrl: "example.com/key", Value: []byte("the key")}
	mounts, err := c.sn.Prepare(ctx, "target", "")
	if err != nil {
		t.Fatal(err)
	}
	applied, err := c.differ.Apply(ctx, desc, mounts, diff.WithPayloads(map[string]*types.Any{"payload-check": payload}))
	if err != nil {
		t.Fatalf("apply: %v\n%s", err, s.stderr.String())
	}
	if applied.Digest != digest.FromBytes(layer.Bytes()) || applied.MediaType != ocispec.MediaTypeImageLayer {
		t.Fatalf("applied %v, want the tar's digest %s", applied, digest.FromBytes(layer.Bytes()))
	}
	want, err := proto.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(seen)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("the processor read %q on descriptor 3, want the marshalled Any %q (%v)", got, want, err)
	}
	if err := mount.WithTempMount(ctx, mounts, func(root string) error {
		b, err := os.ReadFile(filepath.Join(root, "checked"))
		if err == nil && string(b) != "through the processor\n" {
			t.Errorf("checked holds %q", b)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
}
