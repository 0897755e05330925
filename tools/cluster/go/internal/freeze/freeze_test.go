package freeze

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"
)

// The host's mounts: the root filesystem (254:0), /work/x on another device, and the kubelet's bind mount of a volume.
const hostMountinfo = `27 1 254:0 / / rw,relatime - ext4 /dev/vda rw
40 27 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
50 27 254:1 / /work/x rw,relatime - ext4 /dev/vdb rw
51 50 254:1 /vols/vol-1 /work/x/kubelet/pods/u1/volumes/kubernetes.io~csi/pv-1/mount rw - ext4 /dev/vdb rw
`

// A container's: its rootfs (a snapshot directory of the same device), the volume at /data, a subPath of it at
// /var/lib/pg, a sibling volume whose name starts like it, the parent directory, and the same path on another device.
const containerMountinfo = `102 63 254:1 /containerd/snapshots/5 / rw,relatime - ext4 /dev/vdb rw
118 102 254:1 /vols/vol-1 /data rw,relatime - ext4 /dev/vdb rw
119 102 254:1 /vols/vol-1/pgdata /var/lib/pg rw,relatime - ext4 /dev/vdb rw
120 102 254:1 /vols/vol-10 /other rw,relatime - ext4 /dev/vdb rw
121 102 254:1 /vols /all rw,relatime - ext4 /dev/vdb rw
122 102 254:0 /vols/vol-1 /elsewhere rw,relatime - ext4 /dev/vda rw
123 102 254:1 /vols/vol\0401 /with\040space rw,relatime - ext4 /dev/vdb rw
`

func TestParseMountinfo(t *testing.T) {
	got := ParseMountinfo(containerMountinfo)
	if len(got) != 7 {
		t.Fatalf("got %d mounts, want 7: %v", len(got), got)
	}
	if want := (Mount{Dev: "254:1", Root: "/vols/vol 1", Point: "/with space"}); got[6] != want {
		t.Errorf("escaped line: got %+v, want %+v", got[6], want)
	}
}

func TestLocate(t *testing.T) {
	got := Locate(ParseMountinfo(hostMountinfo), []string{"/work/x/vols/vol-1", "/work/wt/.cluster/csi/volumes/vol-2", "/work/xy/vol-3"})
	want := []Volume{{"254:1", "/vols/vol-1"}, {"254:0", "/work/wt/.cluster/csi/volumes/vol-2"}, {"254:0", "/work/xy/vol-3"}}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestViews(t *testing.T) {
	vols := Locate(ParseMountinfo(hostMountinfo), []string{"/work/x/vols/vol-1"})
	// In the container: the volume and its subPath, not the sibling vol-10, the parent, or another device's same path.
	if got, want := Views(ParseMountinfo(containerMountinfo), vols), []string{"/data", "/var/lib/pg"}; !slices.Equal(got, want) {
		t.Errorf("container: got %v, want %v", got, want)
	}
	// On the host: the kubelet's publication of the volume (the volume directory itself is no mount of its own).
	if got, want := Views(ParseMountinfo(hostMountinfo), vols), []string{"/work/x/kubelet/pods/u1/volumes/kubernetes.io~csi/pv-1/mount"}; !slices.Equal(got, want) {
		t.Errorf("host: got %v, want %v", got, want)
	}
}

func TestContainerID(t *testing.T) {
	id := "494ab26ada4ad50c608e5a4eda7fcc426d3aded2e1a1668da2c416106901a890"
	for _, cg := range []string{"9:name=systemd:/k8s.io/" + id + "\n8:pids:/k8s.io/" + id + "\n", "0::/kubepods.slice/cri-containerd-" + id + ".scope\n"} {
		if got := ContainerID(cg); got != id {
			t.Errorf("ContainerID(%q) = %q, want %q", cg, got, id)
		}
	}
	if got := ContainerID("9:name=systemd:/user.slice\n0::/\n"); got != "" {
		t.Errorf("a host process: got %q, want none", got)
	}
}

// A process in a mount namespace of its own whose cwd is a bind mount of a volume's subdirectory (a container's
// subPath) is a user of the volume, though its cwd, seen from the host, names no path under the volume. Needs root.
func TestUsersInAnotherMountNamespace(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (unshare, mount)")
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("no unshare")
	}
	dir := t.TempDir()
	vol, other, target := filepath.Join(dir, "vol"), filepath.Join(dir, "other"), filepath.Join(dir, "target")
	for _, d := range []string{vol + "/sub", other, target} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	start := func(src string) int {
		cmd := exec.Command("unshare", "--mount", "--propagation", "private", "sh", "-c",
			`mount --bind "$1" "$2" && cd "$2" && exec sleep 60`, "sh", src, target)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		pid := cmd.Process.Pid
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			if cwd, _ := os.Readlink("/proc/" + strconv.Itoa(pid) + "/cwd"); cwd == target {
				return pid
			}
		}
		t.Fatalf("%d never reached %s", pid, target)
		return 0
	}
	inVol, inOther := start(vol+"/sub"), start(other)
	roots, err := canonical([]string{vol})
	if err != nil {
		t.Fatal(err)
	}
	users, err := Users(roots)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(users, inVol) || slices.Contains(users, inOther) {
		t.Errorf("users %v: want %d (cwd in a mount of the volume) and not %d (a mount of another directory)", users, inVol, inOther)
	}
}
