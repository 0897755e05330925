package csidriver

import (
	"context"
	"errors"
	"log"
	"os"
	"path/filepath"
	"syscall"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	registration "k8s.io/kubelet/pkg/apis/pluginregistration/v1"

	"pgbackup.local/cluster/internal/freeze"
)

// ---- Node ----
// The kubelet publishes a volume into a pod by NodePublishVolume: a bind mount
// of the volume's directory at the target path (no staging, no attach).

func (d *Driver) NodeGetInfo(context.Context, *csi.NodeGetInfoRequest) (*csi.NodeGetInfoResponse, error) {
	return &csi.NodeGetInfoResponse{NodeId: d.NodeID}, nil
}

func (d *Driver) NodeGetCapabilities(context.Context, *csi.NodeGetCapabilitiesRequest) (*csi.NodeGetCapabilitiesResponse, error) {
	return &csi.NodeGetCapabilitiesResponse{}, nil // no STAGE_UNSTAGE_VOLUME: the kubelet only publishes
}

func (d *Driver) NodePublishVolume(ctx context.Context, req *csi.NodePublishVolumeRequest) (*csi.NodePublishVolumeResponse, error) {
	id, target := req.GetVolumeId(), req.GetTargetPath()
	if id == "" || target == "" {
		return nil, status.Error(codes.InvalidArgument, "volume_id and target_path are required")
	}
	if err := checkCapabilities([]*csi.VolumeCapability{req.GetVolumeCapability()}); req.GetVolumeCapability() == nil || err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "a mount volume_capability is required (%v)", err)
	}
	d.mu.Lock()
	known := d.st.Volumes[id] != nil
	d.mu.Unlock()
	if !known {
		return nil, status.Errorf(codes.NotFound, "volume %s does not exist", id)
	}
	src, err := filepath.EvalSymlinks(d.VolumePath(id))
	if err != nil {
		return nil, status.Errorf(codes.NotFound, "volume %s: %v", id, err)
	}
	mounted, same, err := publishedAt(target, src)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "read mounts: %v", err)
	}
	if mounted {
		if !same {
			return nil, status.Errorf(codes.AlreadyExists, "%s is a mount of something other than volume %s", target, id)
		}
		return &csi.NodePublishVolumeResponse{}, nil // a retry: already published
	}
	if err := os.MkdirAll(target, 0o750); err != nil {
		return nil, status.Errorf(codes.Internal, "create %s: %v", target, err)
	}
	if err := syscall.Mount(src, target, "", syscall.MS_BIND, ""); err != nil {
		return nil, status.Errorf(codes.Internal, "bind mount %s at %s: %v", src, target, err)
	}
	if req.GetReadonly() {
		// A bind mount takes MS_RDONLY only on a remount.
		if err := syscall.Mount("", target, "", syscall.MS_BIND|syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
			_ = syscall.Unmount(target, 0)
			return nil, status.Errorf(codes.Internal, "make %s read-only: %v", target, err)
		}
	}
	log.Printf("published volume %s at %s (readonly=%t)", id, target, req.GetReadonly())
	return &csi.NodePublishVolumeResponse{}, nil
}

func (d *Driver) NodeUnpublishVolume(ctx context.Context, req *csi.NodeUnpublishVolumeRequest) (*csi.NodeUnpublishVolumeResponse, error) {
	id, target := req.GetVolumeId(), req.GetTargetPath()
	if id == "" || target == "" {
		return nil, status.Error(codes.InvalidArgument, "volume_id and target_path are required")
	}
	for {
		mounted, _, err := publishedAt(target, "")
		if err != nil {
			return nil, status.Errorf(codes.Internal, "read mounts: %v", err)
		}
		if !mounted {
			break
		}
		if err := syscall.Unmount(target, 0); err != nil {
			return nil, status.Errorf(codes.Internal, "unmount %s: %v", target, err)
		}
	}
	if err := os.Remove(target); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, status.Errorf(codes.Internal, "remove %s: %v", target, err)
	}
	log.Printf("unpublished volume %s from %s", id, target)
	return &csi.NodeUnpublishVolumeResponse{}, nil
}

// publishedAt says whether target is a mount point, and whether its topmost
// mount shows the directory src (the same device and filesystem path).
func publishedAt(target, src string) (mounted, same bool, err error) {
	text, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return false, false, err
	}
	mounts := freeze.ParseMountinfo(string(text))
	target = filepath.Clean(target)
	for i := len(mounts) - 1; i >= 0; i-- {
		if mounts[i].Point != target {
			continue
		}
		if src == "" {
			return true, false, nil
		}
		vol := freeze.Locate(mounts, []string{src})
		return true, len(vol) == 1 && vol[0].Dev == mounts[i].Dev && vol[0].Path == mounts[i].Root, nil
	}
	return false, false, nil
}

// ---- Plugin registration ----
// What node-driver-registrar does, served by the driver itself: the kubelet
// finds a socket in its plugins_registry directory, asks it for the driver's
// name and CSI endpoint, then calls NodeGetInfo there and writes CSINode.

// Registration answers the kubelet's plugin watcher for driver d, whose CSI
// socket is endpoint (a path).
type Registration struct {
	registration.UnimplementedRegistrationServer
	Driver   *Driver
	Endpoint string
}

func (r *Registration) GetInfo(context.Context, *registration.InfoRequest) (*registration.PluginInfo, error) {
	return &registration.PluginInfo{Type: registration.CSIPlugin, Name: r.Driver.Name, Endpoint: r.Endpoint, SupportedVersions: []string{"1.0.0"}}, nil
}

func (r *Registration) NotifyRegistrationStatus(_ context.Context, s *registration.RegistrationStatus) (*registration.RegistrationStatusResponse, error) {
	if s.GetPluginRegistered() {
		log.Printf("registered with the kubelet as %s (node %s)", r.Driver.Name, r.Driver.NodeID)
	} else {
		log.Printf("the kubelet refused the registration: %s", s.GetError())
	}
	return &registration.RegistrationStatusResponse{}, nil
}
