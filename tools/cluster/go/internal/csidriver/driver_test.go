package csidriver

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// lineSize: each line is ONE write(2), so a line is complete in any instant's image.
const lineSize = 4096

// TestMain doubles as the writer process: PGB_WRITER=a,b appends numbered lines
// forever, line i to a and then to b, so at any instant b has i or i-1 lines when
// a has i. A copy of a and b that is not cut at one instant breaks that.
func TestMain(m *testing.M) {
	if paths := os.Getenv("PGB_WRITER"); paths != "" {
		var files []*os.File
		for _, p := range strings.Split(paths, ",") {
			f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
			if err != nil {
				panic(err)
			}
			files = append(files, f)
		}
		for i := 0; ; i++ {
			line := fmt.Appendf(nil, "%09d ", i)
			line = append(line, bytes.Repeat([]byte{'x'}, lineSize-len(line)-1)...)
			line = append(line, '\n')
			for _, f := range files {
				if _, err := f.Write(line); err != nil {
					panic(err)
				}
			}
			time.Sleep(200 * time.Microsecond) // ~20 MB/s: the test's disk use stays small
		}
	}
	os.Exit(m.Run())
}

var ctx = context.Background()

func mountCap() []*csi.VolumeCapability {
	return []*csi.VolumeCapability{{
		AccessType: &csi.VolumeCapability_Mount{Mount: &csi.VolumeCapability_MountVolume{}},
		AccessMode: &csi.VolumeCapability_AccessMode{Mode: csi.VolumeCapability_AccessMode_SINGLE_NODE_WRITER},
	}}
}

func newDriver(t *testing.T, dir string) *Driver {
	t.Helper()
	d, err := New("test.csi", "n1", "t", dir)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func createVolume(t *testing.T, d *Driver, name string, size int64) *csi.Volume {
	t.Helper()
	resp, err := d.CreateVolume(ctx, &csi.CreateVolumeRequest{Name: name, VolumeCapabilities: mountCap(),
		CapacityRange: &csi.CapacityRange{RequiredBytes: size}})
	if err != nil {
		t.Fatal(err)
	}
	return resp.Volume
}

// startWriter runs a writer appending to files, with the first file's directory as
// its cwd (like postgres in PGDATA), and waits until it has written 100 lines.
func startWriter(t *testing.T, files ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "PGB_WRITER="+strings.Join(files, ","))
	cmd.Dir = filepath.Dir(files[0])
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	waitForSize(t, files[len(files)-1], 100*lineSize)
	return cmd
}

// addFiller writes a 32 MiB file so copying dir takes long enough (ms) for the
// writer to add lines meanwhile: without a freeze the copy would not be one instant.
func addFiller(t *testing.T, dir string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "filler"), bytes.Repeat([]byte{'f'}, 32<<20), 0o644); err != nil {
		t.Fatal(err)
	}
}

func waitForSize(t *testing.T, path string, n int64) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if fi, err := os.Stat(path); err == nil && fi.Size() >= n {
			return
		}
	}
	t.Fatalf("%s did not reach %d bytes", path, n)
}

// lineCount asserts the copied file holds lines 0..n-1, each complete, and returns n.
func lineCount(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b)%lineSize != 0 {
		t.Fatalf("%s: %d bytes is not a whole number of lines: torn write", path, len(b))
	}
	n := 0
	for line := range bytes.Lines(b) {
		num, err := strconv.Atoi(string(line[:9]))
		if err != nil || num != n || len(line) != lineSize || line[lineSize-1] != '\n' {
			t.Fatalf("%s line %d: got number %d (%v), length %d", path, n, num, err, len(line))
		}
		n++
	}
	return n
}

// checkOneInstant asserts copies of a and b show one instant of the writer:
// b has as many lines as a, or one fewer (caught between the two writes).
func checkOneInstant(t *testing.T, a, b string) {
	t.Helper()
	na, nb := lineCount(t, a), lineCount(t, b)
	if na < 100 || nb != na && nb != na-1 {
		t.Fatalf("copies are not one instant: %s has %d lines, %s has %d", a, na, b, nb)
	}
}

func procState(t *testing.T, pid int) byte {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	return b[bytes.LastIndexByte(b, ')')+2]
}

func TestSnapshotOfAVolumeBeingWrittenIsACompletePrefix(t *testing.T) {
	d := newDriver(t, t.TempDir())
	vol := createVolume(t, d, "pvc-1", 1<<30)
	dir := d.VolumePath(vol.VolumeId)
	addFiller(t, dir)
	w := startWriter(t, filepath.Join(dir, "a.log"), filepath.Join(dir, "b.log"))

	for i := range 5 {
		resp, err := d.CreateSnapshot(ctx, &csi.CreateSnapshotRequest{Name: fmt.Sprintf("snap-%d", i), SourceVolumeId: vol.VolumeId})
		if err != nil {
			t.Fatal(err)
		}
		snap := d.snapshotPath(resp.Snapshot.SnapshotId)
		checkOneInstant(t, filepath.Join(snap, "a.log"), filepath.Join(snap, "b.log"))
		if st := procState(t, w.Process.Pid); st == 'T' {
			t.Fatalf("writer left stopped after snapshot %d", i)
		}
	}
}

func TestProcessesAreContinuedWhenTheCopyFails(t *testing.T) {
	d := newDriver(t, t.TempDir())
	vol := createVolume(t, d, "pvc-1", 1<<30)
	src := d.VolumePath(vol.VolumeId)
	w := startWriter(t, filepath.Join(src, "a.log"))

	_, err := d.freezeAndCopy([]string{src}, []string{filepath.Join(t.TempDir(), "missing", "dst")})
	if err == nil {
		t.Fatal("copy into a missing directory succeeded")
	}
	if st := procState(t, w.Process.Pid); st == 'T' {
		t.Fatal("writer left stopped after a failed copy")
	}
	fi, _ := os.Stat(filepath.Join(src, "a.log"))
	waitForSize(t, filepath.Join(src, "a.log"), fi.Size()+lineSize) // and it still writes
}

func TestGroupSnapshotCutsAllVolumesAtOneInstant(t *testing.T) {
	d := newDriver(t, t.TempDir())
	data, wal := createVolume(t, d, "data", 1<<30), createVolume(t, d, "wal", 1<<30)
	addFiller(t, d.VolumePath(data.VolumeId))
	addFiller(t, d.VolumePath(wal.VolumeId))
	startWriter(t, filepath.Join(d.VolumePath(data.VolumeId), "a.log"), filepath.Join(d.VolumePath(wal.VolumeId), "b.log"))

	resp, err := d.CreateVolumeGroupSnapshot(ctx, &csi.CreateVolumeGroupSnapshotRequest{Name: "g1", SourceVolumeIds: []string{data.VolumeId, wal.VolumeId}})
	if err != nil {
		t.Fatal(err)
	}
	g := resp.GroupSnapshot
	if len(g.Snapshots) != 2 || !g.ReadyToUse {
		t.Fatalf("group %v", g)
	}
	files := map[string]string{}
	for _, s := range g.Snapshots {
		if s.GroupSnapshotId != g.GroupSnapshotId || !s.CreationTime.AsTime().Equal(g.CreationTime.AsTime()) {
			t.Fatalf("member %v does not belong to %v", s, g)
		}
		files[s.SourceVolumeId] = d.snapshotPath(s.SnapshotId)
	}
	checkOneInstant(t, filepath.Join(files[data.VolumeId], "a.log"), filepath.Join(files[wal.VolumeId], "b.log"))
	again, err := d.CreateVolumeGroupSnapshot(ctx, &csi.CreateVolumeGroupSnapshotRequest{Name: "g1", SourceVolumeIds: []string{wal.VolumeId, data.VolumeId}})
	if err != nil || again.GroupSnapshot.GroupSnapshotId != g.GroupSnapshotId {
		t.Fatalf("same name gave %v, %v", again, err)
	}
	if _, err := d.CreateVolumeGroupSnapshot(ctx, &csi.CreateVolumeGroupSnapshotRequest{Name: "g1", SourceVolumeIds: []string{data.VolumeId}}); status.Code(err) != codes.AlreadyExists {
		t.Fatalf("same name, other volumes: %v", err)
	}
	if _, err := d.DeleteVolumeGroupSnapshot(ctx, &csi.DeleteVolumeGroupSnapshotRequest{GroupSnapshotId: g.GroupSnapshotId}); err != nil {
		t.Fatal(err)
	}
	if list, _ := d.ListSnapshots(ctx, &csi.ListSnapshotsRequest{}); len(list.Entries) != 0 {
		t.Fatalf("members left after group deletion: %v", list.Entries)
	}
}

func TestCreateIsIdempotentByNameAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	d := newDriver(t, dir)
	vol := createVolume(t, d, "pvc-1", 100<<20)
	if again := createVolume(t, d, "pvc-1", 100<<20); again.VolumeId != vol.VolumeId {
		t.Fatalf("same name gave a second volume %s", again.VolumeId)
	}
	_, err := d.CreateVolume(ctx, &csi.CreateVolumeRequest{Name: "pvc-1", VolumeCapabilities: mountCap(), CapacityRange: &csi.CapacityRange{RequiredBytes: 200 << 20}})
	if status.Code(err) != codes.AlreadyExists {
		t.Fatalf("same name, bigger size: %v", err)
	}
	snap, err := d.CreateSnapshot(ctx, &csi.CreateSnapshotRequest{Name: "s1", SourceVolumeId: vol.VolumeId})
	if err != nil {
		t.Fatal(err)
	}

	d = newDriver(t, dir) // a restart reads state.json
	if again := createVolume(t, d, "pvc-1", 100<<20); again.VolumeId != vol.VolumeId {
		t.Fatalf("after restart, same name gave a second volume %s", again.VolumeId)
	}
	again, err := d.CreateSnapshot(ctx, &csi.CreateSnapshotRequest{Name: "s1", SourceVolumeId: vol.VolumeId})
	if err != nil || again.Snapshot.SnapshotId != snap.Snapshot.SnapshotId || !again.Snapshot.CreationTime.AsTime().Equal(snap.Snapshot.CreationTime.AsTime()) {
		t.Fatalf("after restart, same snapshot name gave %v, %v; want %v", again, err, snap)
	}
	if _, err := d.CreateSnapshot(ctx, &csi.CreateSnapshotRequest{Name: "s1", SourceVolumeId: "vol-other"}); status.Code(err) != codes.AlreadyExists {
		t.Fatalf("same snapshot name, other volume: %v", err)
	}
	for range 2 { // deletes are idempotent too
		if _, err := d.DeleteSnapshot(ctx, &csi.DeleteSnapshotRequest{SnapshotId: snap.Snapshot.SnapshotId}); err != nil {
			t.Fatal(err)
		}
		if _, err := d.DeleteVolume(ctx, &csi.DeleteVolumeRequest{VolumeId: vol.VolumeId}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(d.VolumePath(vol.VolumeId)); !os.IsNotExist(err) {
		t.Fatalf("volume directory left behind: %v", err)
	}
}

func TestRestoreKeepsDataOwnersAndRefusesATooSmallTarget(t *testing.T) {
	d := newDriver(t, t.TempDir())
	vol := createVolume(t, d, "pvc-1", 100<<20)
	pg := filepath.Join(d.VolumePath(vol.VolumeId), "pgdata")
	if err := os.Mkdir(pg, 0o700); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(pg, "PG_VERSION"), []byte("15\n"), 0o600)
	os.Symlink("PG_VERSION", filepath.Join(pg, "link"))
	for _, p := range []string{pg, filepath.Join(pg, "PG_VERSION")} {
		if err := os.Chown(p, 101, 103); err != nil {
			t.Fatal(err)
		}
	}
	snap, err := d.CreateSnapshot(ctx, &csi.CreateSnapshotRequest{Name: "s1", SourceVolumeId: vol.VolumeId})
	if err != nil {
		t.Fatal(err)
	}
	if snap.Snapshot.SizeBytes < 100<<20 {
		t.Fatalf("size_bytes %d is below the source's capacity", snap.Snapshot.SizeBytes)
	}
	src := &csi.VolumeContentSource{Type: &csi.VolumeContentSource_Snapshot{Snapshot: &csi.VolumeContentSource_SnapshotSource{SnapshotId: snap.Snapshot.SnapshotId}}}

	_, err = d.CreateVolume(ctx, &csi.CreateVolumeRequest{Name: "small", VolumeCapabilities: mountCap(),
		CapacityRange: &csi.CapacityRange{RequiredBytes: 10 << 20}, VolumeContentSource: src})
	if status.Code(err) != codes.OutOfRange {
		t.Fatalf("restore into 10MiB: %v", err)
	}
	resp, err := d.CreateVolume(ctx, &csi.CreateVolumeRequest{Name: "restored", VolumeCapabilities: mountCap(),
		CapacityRange: &csi.CapacityRange{RequiredBytes: 100 << 20}, VolumeContentSource: src})
	if err != nil {
		t.Fatal(err)
	}
	restored := filepath.Join(d.VolumePath(resp.Volume.VolumeId), "pgdata")
	fi, err := os.Stat(restored)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprintf("%o %d", fi.Mode().Perm(), fi.Sys().(*syscall.Stat_t).Uid); got != "700 101" {
		t.Fatalf("restored pgdata mode/owner %s", got)
	}
	if b, _ := os.ReadFile(filepath.Join(restored, "link")); string(b) != "15\n" {
		t.Fatalf("symlink not restored: %q", b)
	}
}

func TestSnapshotClassKnobs(t *testing.T) {
	d := newDriver(t, t.TempDir())
	vol := createVolume(t, d, "pvc-1", 1<<20)
	_, err := d.CreateSnapshot(ctx, &csi.CreateSnapshotRequest{Name: "f", SourceVolumeId: vol.VolumeId, Parameters: map[string]string{"failSnapshots": "true"}})
	if status.Code(err) != codes.Internal || !strings.Contains(err.Error(), "injected failure") {
		t.Fatalf("failSnapshots: %v", err)
	}
	req := &csi.CreateSnapshotRequest{Name: "slow", SourceVolumeId: vol.VolumeId, Parameters: map[string]string{"readyDelay": "300ms"}}
	first, err := d.CreateSnapshot(ctx, req)
	if err != nil || first.Snapshot.ReadyToUse {
		t.Fatalf("readyDelay: first call %v, %v", first, err)
	}
	time.Sleep(350 * time.Millisecond)
	if again, err := d.CreateSnapshot(ctx, req); err != nil || !again.Snapshot.ReadyToUse {
		t.Fatalf("readyDelay: not ready after the delay: %v, %v", again, err)
	}
	if _, err := d.CreateSnapshot(ctx, &csi.CreateSnapshotRequest{Name: "bad", SourceVolumeId: vol.VolumeId, Parameters: map[string]string{"readyDelay": "soon"}}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("bad readyDelay: %v", err)
	}
}

// The sidecars only see what is registered on the socket: check it over real gRPC.
func TestServesIdentityControllerAndGroupControllerOverGRPC(t *testing.T) {
	d := newDriver(t, t.TempDir())
	sock := filepath.Join(t.TempDir(), "csi.sock")
	lis, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	csi.RegisterIdentityServer(srv, d)
	csi.RegisterControllerServer(srv, d)
	csi.RegisterGroupControllerServer(srv, d)
	go srv.Serve(lis)
	defer srv.Stop()
	conn, err := grpc.NewClient("unix://"+sock, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	info, err := csi.NewIdentityClient(conn).GetPluginInfo(ctx, &csi.GetPluginInfoRequest{})
	if err != nil || info.Name != "test.csi" {
		t.Fatalf("GetPluginInfo: %v, %v", info, err)
	}
	caps, err := csi.NewControllerClient(conn).ControllerGetCapabilities(ctx, &csi.ControllerGetCapabilitiesRequest{})
	if err != nil || len(caps.Capabilities) != 4 {
		t.Fatalf("ControllerGetCapabilities: %v, %v", caps, err)
	}
	gcaps, err := csi.NewGroupControllerClient(conn).GroupControllerGetCapabilities(ctx, &csi.GroupControllerGetCapabilitiesRequest{})
	if err != nil || len(gcaps.Capabilities) != 1 {
		t.Fatalf("GroupControllerGetCapabilities: %v, %v", gcaps, err)
	}
}

// Two VolumeSnapshots of one PVC at once (a backup and a scheduled one) must both
// succeed: a failed CreateSnapshot would surface as a VolumeSnapshot error.
func TestConcurrentSnapshotsOfOneVolumeAreSerializedNotRefused(t *testing.T) {
	d := newDriver(t, t.TempDir())
	vol := createVolume(t, d, "pvc-1", 1<<30)
	addFiller(t, d.VolumePath(vol.VolumeId)) // each copy takes a few ms: the calls overlap
	errs := make(chan error, 2)
	for _, name := range []string{"a", "b"} {
		go func() {
			_, err := d.CreateSnapshot(ctx, &csi.CreateSnapshotRequest{Name: name, SourceVolumeId: vol.VolumeId})
			errs <- err
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
