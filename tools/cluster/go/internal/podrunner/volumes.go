package podrunner

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// hostPaths maps paths inside a container onto host directories, as a kubelet's
// mounts would: a PVC's mount onto its CSI volume directory, an emptyDir onto a
// per-pod directory, anything else onto a per-pod "root filesystem" directory.
type hostPaths struct {
	mounts []mount // longest mountPath first
	rootfs string
}

type mount struct {
	containerPath, hostPath string
}

// resolveMounts resolves every volumeMount of c to a host directory. A PVC must be
// bound to a CSI PersistentVolume whose volumeHandle names a dir under csiState/volumes.
func resolveMounts(ctx context.Context, cs kubernetes.Interface, pod *corev1.Pod, c *corev1.Container, csiState, podDir string) (*hostPaths, error) {
	hp := &hostPaths{rootfs: filepath.Join(podDir, "rootfs")}
	for _, vm := range c.VolumeMounts {
		var vol *corev1.Volume
		for i := range pod.Spec.Volumes {
			if pod.Spec.Volumes[i].Name == vm.Name {
				vol = &pod.Spec.Volumes[i]
			}
		}
		if vol == nil {
			return nil, fmt.Errorf("volumeMount %q has no volume", vm.Name)
		}
		var base string
		switch {
		case vol.PersistentVolumeClaim != nil, vol.Ephemeral != nil:
			claim := pod.Name + "-" + vol.Name // generic ephemeral volume naming
			if vol.PersistentVolumeClaim != nil {
				claim = vol.PersistentVolumeClaim.ClaimName
			}
			dir, err := claimDir(ctx, cs, pod.Namespace, claim, csiState)
			if err != nil {
				return nil, err
			}
			base = dir
		case vol.EmptyDir != nil:
			base = filepath.Join(podDir, "emptydir", vol.Name)
		default:
			// Secrets, configMaps, projected tokens: nothing in a postgres pod reads them through pod-runner.
			continue
		}
		hp.mounts = append(hp.mounts, mount{containerPath: path.Clean(vm.MountPath), hostPath: filepath.Join(base, vm.SubPath)})
	}
	// Longest first, so a nested mount wins over its parent.
	slices.SortStableFunc(hp.mounts, func(a, b mount) int { return len(b.containerPath) - len(a.containerPath) })
	return hp, nil
}

func claimDir(ctx context.Context, cs kubernetes.Interface, ns, claim, csiState string) (string, error) {
	pvc, err := cs.CoreV1().PersistentVolumeClaims(ns).Get(ctx, claim, metav1.GetOptions{})
	if err != nil {
		return "", fmt.Errorf("PVC %s: %w", claim, err)
	}
	if pvc.Spec.VolumeName == "" || pvc.Status.Phase != corev1.ClaimBound {
		return "", fmt.Errorf("PVC %s is not bound yet (%s)", claim, pvc.Status.Phase)
	}
	pv, err := cs.CoreV1().PersistentVolumes().Get(ctx, pvc.Spec.VolumeName, metav1.GetOptions{})
	if err != nil {
		return "", fmt.Errorf("PV %s of PVC %s: %w", pvc.Spec.VolumeName, claim, err)
	}
	if pv.Spec.CSI == nil || pv.Spec.CSI.VolumeHandle == "" {
		return "", fmt.Errorf("PV %s of PVC %s is not a CSI volume", pv.Name, claim)
	}
	dir := filepath.Join(csiState, "volumes", pv.Spec.CSI.VolumeHandle)
	// Never create it: data written elsewhere would be missing from every snapshot.
	if _, err := os.Stat(dir); err != nil {
		return "", fmt.Errorf("PV %s: volume directory: %w (is --statedir pgbackup-csi's --statedir?)", pv.Name, err)
	}
	return dir, nil
}

// Host returns the host path of a container path, and whether it is on a persistent or emptyDir mount.
func (hp *hostPaths) Host(p string) (string, bool) {
	p = path.Clean(p)
	for _, m := range hp.mounts {
		if p == m.containerPath {
			return m.hostPath, true
		}
		if rel, ok := strings.CutPrefix(p, strings.TrimSuffix(m.containerPath, "/")+"/"); ok {
			return filepath.Join(m.hostPath, rel), true
		}
	}
	return filepath.Join(hp.rootfs, p), false
}
