package csidriver

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	registration "k8s.io/kubelet/pkg/apis/pluginregistration/v1"
)

func mountsAt(t *testing.T, target string) int {
	t.Helper()
	text, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(text), " "+target+" ")
}

func publish(d *Driver, id, target string, readonly bool) error {
	_, err := d.NodePublishVolume(ctx, &csi.NodePublishVolumeRequest{VolumeId: id, TargetPath: target, Readonly: readonly,
		VolumeCapability: mountCap()[0]})
	return err
}

func unpublish(d *Driver, id, target string) error {
	_, err := d.NodeUnpublishVolume(ctx, &csi.NodeUnpublishVolumeRequest{VolumeId: id, TargetPath: target})
	return err
}

// What the kubelet does with a pod's volume: publish it at a target under the pod's directory (again after a retry or
// a restart), the pod writes through it into the volume, then unpublish it (again, too); a read-only publication
// refuses writes.
func TestNodePublishBindMountsTheVolumeIdempotentlyAndHonoursReadonly(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (mount)")
	}
	d := newDriver(t, t.TempDir())
	vol, other := createVolume(t, d, "pvc-a", 1<<20).VolumeId, createVolume(t, d, "pvc-b", 1<<20).VolumeId
	pods := t.TempDir()
	rw, ro := filepath.Join(pods, "u1/volumes/kubernetes.io~csi/pv-a/mount"), filepath.Join(pods, "u2/volumes/kubernetes.io~csi/pv-a/mount")
	t.Cleanup(func() { _ = unpublish(d, vol, rw); _ = unpublish(d, vol, ro) })

	for range 2 {
		if err := publish(d, vol, rw, false); err != nil {
			t.Fatal(err)
		}
	}
	if n := mountsAt(t, rw); n != 1 {
		t.Fatalf("%d mounts at %s after two publications, want 1", n, rw)
	}
	if err := os.WriteFile(filepath.Join(rw, "f"), []byte("written by the pod"), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(d.VolumePath(vol), "f")); err != nil || string(b) != "written by the pod" {
		t.Fatalf("the volume holds %q, %v", b, err)
	}
	if err := publish(d, other, rw, false); status.Code(err) != codes.AlreadyExists {
		t.Errorf("another volume at the same target: %v, want AlreadyExists", err)
	}
	if err := publish(d, "vol-missing", filepath.Join(pods, "u3/mount"), false); status.Code(err) != codes.NotFound {
		t.Errorf("an unknown volume: %v, want NotFound", err)
	}

	if err := publish(d, vol, ro, true); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(ro, "f")); err != nil || string(b) != "written by the pod" {
		t.Fatalf("read-only publication shows %q, %v", b, err)
	}
	if err := os.WriteFile(filepath.Join(ro, "g"), nil, 0o644); !errors.Is(err, syscall.EROFS) {
		t.Errorf("write through the read-only publication: %v, want EROFS", err)
	}

	for range 2 {
		if err := unpublish(d, vol, rw); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(rw); !errors.Is(err, os.ErrNotExist) || mountsAt(t, rw) != 0 {
		t.Errorf("after unpublishing, %s: %v, %d mounts; want neither", rw, err, mountsAt(t, rw))
	}
	if _, err := os.Stat(filepath.Join(d.VolumePath(vol), "f")); err != nil {
		t.Errorf("unpublishing lost the data: %v", err)
	}
}

// The kubelet's plugin watcher learns the driver's name and CSI socket from the registration socket, then asks the
// driver for its node id (the kubelet's node name, which CSINode records).
func TestRegistrationNamesTheDriverAndItsEndpoint(t *testing.T) {
	d := newDriver(t, t.TempDir())
	r := &Registration{Driver: d, Endpoint: "/tmp/x/csi.sock"}
	info, err := r.GetInfo(ctx, &registration.InfoRequest{})
	if err != nil || info.Type != registration.CSIPlugin || info.Name != "test.csi" || info.Endpoint != "/tmp/x/csi.sock" ||
		len(info.SupportedVersions) != 1 || info.SupportedVersions[0] != "1.0.0" {
		t.Fatalf("GetInfo: %v, %v", info, err)
	}
	n, err := d.NodeGetInfo(ctx, &csi.NodeGetInfoRequest{})
	if err != nil || n.NodeId != "n1" {
		t.Fatalf("NodeGetInfo: %v, %v", n, err)
	}
}
