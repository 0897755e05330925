// Package csidriver is a small CSI driver (Identity, Controller,
// GroupController and Node services) whose volumes are host directories and whose
// snapshots are point-in-time copies: the processes using a volume are
// stopped while it is copied, as real storage cuts a snapshot at one instant.
package csidriver

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"pgbackup.local/cluster/internal/freeze"
	"pgbackup.local/cluster/internal/treecopy"
)

const (
	defaultCapacity = 1 << 30
	// VolumeSnapshotClass parameters understood as test knobs.
	paramReadyDelay    = "readyDelay"
	paramFailSnapshots = "failSnapshots"
	tmpPrefix          = ".tmp-"
)

// Driver implements the CSI services on the directory tree under Dir.
type Driver struct {
	csi.UnimplementedIdentityServer
	csi.UnimplementedControllerServer
	csi.UnimplementedGroupControllerServer
	csi.UnimplementedNodeServer

	Name, NodeID, Version, Dir string

	mu sync.Mutex
	st *state
	// busy holds the names (and "vol:<id>") of operations in flight, so a retry by the
	// sidecar while a long copy runs gets Aborted instead of starting a second copy.
	busy map[string]bool
}

// New loads DIR/state.json and removes half-made copies left by a crash.
func New(name, nodeID, version, dir string) (*Driver, error) {
	for _, sub := range []string{"volumes", "snapshots"} {
		p := filepath.Join(dir, sub)
		if err := os.MkdirAll(p, 0o755); err != nil {
			return nil, err
		}
		leftovers, _ := filepath.Glob(filepath.Join(p, tmpPrefix+"*"))
		for _, l := range leftovers {
			if err := os.RemoveAll(l); err != nil {
				return nil, err
			}
		}
	}
	st, err := loadState(filepath.Join(dir, "state.json"))
	if err != nil {
		return nil, fmt.Errorf("load state: %w", err)
	}
	return &Driver{Name: name, NodeID: nodeID, Version: version, Dir: dir, st: st, busy: map[string]bool{}}, nil
}

// VolumePath is the host directory of a volume; pod-runner derives the same path.
func (d *Driver) VolumePath(id string) string { return filepath.Join(d.Dir, "volumes", id) }

func (d *Driver) snapshotPath(id string) string { return filepath.Join(d.Dir, "snapshots", id) }

func (d *Driver) save() error {
	if err := d.st.save(filepath.Join(d.Dir, "state.json")); err != nil {
		return status.Errorf(codes.Internal, "save state: %v", err)
	}
	return nil
}

// claim marks keys busy; the caller must release them. Call with d.mu held; it
// returns with d.mu held. A busy name is a retry of an operation still running:
// Aborted, as CSI asks. A busy volume ("vol:<id>") is waited for: storage
// serializes two snapshots of one volume rather than failing one, and a failed
// CreateSnapshot would show up as a VolumeSnapshot error.
func (d *Driver) claim(ctx context.Context, keys ...string) error {
	for _, k := range keys {
		if d.busy[k] && !strings.HasPrefix(k, "vol:") {
			return status.Errorf(codes.Aborted, "an operation on %s is already in progress", k)
		}
	}
	for slices.ContainsFunc(keys, func(k string) bool { return d.busy[k] }) {
		d.mu.Unlock()
		select {
		case <-ctx.Done():
			d.mu.Lock()
			return status.FromContextError(ctx.Err()).Err()
		case <-time.After(10 * time.Millisecond):
		}
		d.mu.Lock()
	}
	for _, k := range keys {
		if id, ok := strings.CutPrefix(k, "vol:"); ok && d.st.Volumes[id] == nil {
			return status.Errorf(codes.NotFound, "volume %s was deleted", id)
		}
	}
	for _, k := range keys {
		d.busy[k] = true
	}
	return nil
}

func (d *Driver) release(keys ...string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, k := range keys {
		delete(d.busy, k)
	}
}

// ---- Identity ----

func (d *Driver) GetPluginInfo(context.Context, *csi.GetPluginInfoRequest) (*csi.GetPluginInfoResponse, error) {
	return &csi.GetPluginInfoResponse{Name: d.Name, VendorVersion: d.Version, Manifest: map[string]string{"nodeid": d.NodeID}}, nil
}

func (d *Driver) GetPluginCapabilities(context.Context, *csi.GetPluginCapabilitiesRequest) (*csi.GetPluginCapabilitiesResponse, error) {
	svc := func(t csi.PluginCapability_Service_Type) *csi.PluginCapability {
		return &csi.PluginCapability{Type: &csi.PluginCapability_Service_{Service: &csi.PluginCapability_Service{Type: t}}}
	}
	return &csi.GetPluginCapabilitiesResponse{Capabilities: []*csi.PluginCapability{
		svc(csi.PluginCapability_Service_CONTROLLER_SERVICE),
		svc(csi.PluginCapability_Service_GROUP_CONTROLLER_SERVICE),
	}}, nil
}

func (d *Driver) Probe(context.Context, *csi.ProbeRequest) (*csi.ProbeResponse, error) {
	return &csi.ProbeResponse{Ready: wrapperspb.Bool(true)}, nil
}

// ---- Controller ----

func (d *Driver) ControllerGetCapabilities(context.Context, *csi.ControllerGetCapabilitiesRequest) (*csi.ControllerGetCapabilitiesResponse, error) {
	var caps []*csi.ControllerServiceCapability
	for _, t := range []csi.ControllerServiceCapability_RPC_Type{
		csi.ControllerServiceCapability_RPC_CREATE_DELETE_VOLUME,
		csi.ControllerServiceCapability_RPC_CREATE_DELETE_SNAPSHOT,
		csi.ControllerServiceCapability_RPC_LIST_SNAPSHOTS,
		csi.ControllerServiceCapability_RPC_CLONE_VOLUME,
	} {
		caps = append(caps, &csi.ControllerServiceCapability{Type: &csi.ControllerServiceCapability_Rpc{Rpc: &csi.ControllerServiceCapability_RPC{Type: t}}})
	}
	return &csi.ControllerGetCapabilitiesResponse{Capabilities: caps}, nil
}

func checkCapabilities(caps []*csi.VolumeCapability) error {
	if len(caps) == 0 {
		return status.Error(codes.InvalidArgument, "volume capabilities are required")
	}
	for _, c := range caps {
		if c.GetBlock() != nil {
			return status.Error(codes.InvalidArgument, "block volumes are not supported: volumes are directories")
		}
	}
	return nil
}

func (d *Driver) CreateVolume(ctx context.Context, req *csi.CreateVolumeRequest) (*csi.CreateVolumeResponse, error) {
	if req.GetName() == "" {
		return nil, status.Error(codes.InvalidArgument, "name is required")
	}
	if err := checkCapabilities(req.GetVolumeCapabilities()); err != nil {
		return nil, err
	}
	required, limit := req.GetCapacityRange().GetRequiredBytes(), req.GetCapacityRange().GetLimitBytes()
	if limit > 0 && required > limit {
		return nil, status.Errorf(codes.InvalidArgument, "required_bytes %d > limit_bytes %d", required, limit)
	}
	srcSnap := req.GetVolumeContentSource().GetSnapshot().GetSnapshotId()
	srcVol := req.GetVolumeContentSource().GetVolume().GetVolumeId()

	d.mu.Lock()
	if v := d.st.volumeByName(req.Name); v != nil {
		d.mu.Unlock()
		if v.SourceSnapshotID != srcSnap || v.SourceVolumeID != srcVol ||
			v.CapacityBytes < required || (limit > 0 && v.CapacityBytes > limit) {
			return nil, status.Errorf(codes.AlreadyExists, "volume %q exists (%s) with another size or source", req.Name, v.ID)
		}
		return &csi.CreateVolumeResponse{Volume: volumeResp(v, req.GetVolumeContentSource())}, nil
	}
	var srcSize int64
	var srcDir string
	switch {
	case srcSnap != "":
		sn := d.st.Snapshots[srcSnap]
		if sn == nil {
			d.mu.Unlock()
			return nil, status.Errorf(codes.NotFound, "source snapshot %s not found", srcSnap)
		}
		srcSize, srcDir = sn.SizeBytes, d.snapshotPath(srcSnap)
	case srcVol != "":
		v := d.st.Volumes[srcVol]
		if v == nil {
			d.mu.Unlock()
			return nil, status.Errorf(codes.NotFound, "source volume %s not found", srcVol)
		}
		srcSize, srcDir = v.CapacityBytes, d.VolumePath(srcVol)
	}
	capacity := required
	if capacity == 0 {
		capacity = max(defaultCapacity, srcSize)
		if limit > 0 {
			capacity = min(capacity, limit)
		}
	}
	if srcSize > capacity {
		d.mu.Unlock()
		return nil, status.Errorf(codes.OutOfRange,
			"requested capacity %d bytes is smaller than the source's size %d bytes: request at least the source's restoreSize", capacity, srcSize)
	}
	keys := []string{req.Name}
	if srcVol != "" {
		keys = append(keys, "vol:"+srcVol)
	}
	if err := d.claim(ctx, keys...); err != nil {
		d.mu.Unlock()
		return nil, err
	}
	d.mu.Unlock()
	defer d.release(keys...)

	v := &Volume{ID: newID("vol-"), Name: req.Name, CapacityBytes: capacity, SourceSnapshotID: srcSnap, SourceVolumeID: srcVol, CreatedAt: time.Now().UTC()}
	tmp := filepath.Join(d.Dir, "volumes", tmpPrefix+v.ID)
	var err error
	switch {
	case srcSnap != "":
		_, err = treecopy.Copy(srcDir, tmp)
	case srcVol != "":
		// A clone is cut at one instant too.
		_, err = d.freezeAndCopy([]string{srcDir}, []string{tmp})
	default:
		// 0777 whatever the umask: postgres (uid 101) creates its data directory inside.
		if err = os.Mkdir(tmp, 0o777); err == nil {
			err = os.Chmod(tmp, 0o777)
		}
	}
	if err == nil {
		err = os.Rename(tmp, d.VolumePath(v.ID))
	}
	if err != nil {
		os.RemoveAll(tmp)
		return nil, status.Errorf(codes.Internal, "create volume %s: %v", req.Name, err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.st.Volumes[v.ID] = v
	if err := d.save(); err != nil {
		return nil, err
	}
	log.Printf("created volume %s (%s, %d bytes, from snapshot %q volume %q)", v.ID, v.Name, v.CapacityBytes, srcSnap, srcVol)
	return &csi.CreateVolumeResponse{Volume: volumeResp(v, req.GetVolumeContentSource())}, nil
}

func volumeResp(v *Volume, src *csi.VolumeContentSource) *csi.Volume {
	return &csi.Volume{VolumeId: v.ID, CapacityBytes: v.CapacityBytes, ContentSource: src}
}

func (d *Driver) DeleteVolume(ctx context.Context, req *csi.DeleteVolumeRequest) (*csi.DeleteVolumeResponse, error) {
	if req.GetVolumeId() == "" {
		return nil, status.Error(codes.InvalidArgument, "volume_id is required")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.st.Volumes[req.VolumeId] == nil {
		return &csi.DeleteVolumeResponse{}, nil
	}
	if d.busy["vol:"+req.VolumeId] {
		return nil, status.Errorf(codes.Aborted, "volume %s is being copied", req.VolumeId)
	}
	// Directory first: a crash in between leaves a state entry whose deletion is retried.
	if err := os.RemoveAll(d.VolumePath(req.VolumeId)); err != nil {
		return nil, status.Errorf(codes.Internal, "delete volume: %v", err)
	}
	delete(d.st.Volumes, req.VolumeId)
	log.Printf("deleted volume %s", req.VolumeId)
	return &csi.DeleteVolumeResponse{}, d.save()
}

func (d *Driver) ValidateVolumeCapabilities(ctx context.Context, req *csi.ValidateVolumeCapabilitiesRequest) (*csi.ValidateVolumeCapabilitiesResponse, error) {
	if req.GetVolumeId() == "" {
		return nil, status.Error(codes.InvalidArgument, "volume_id is required")
	}
	if len(req.GetVolumeCapabilities()) == 0 {
		return nil, status.Error(codes.InvalidArgument, "volume capabilities are required")
	}
	d.mu.Lock()
	exists := d.st.Volumes[req.VolumeId] != nil
	d.mu.Unlock()
	if !exists {
		return nil, status.Errorf(codes.NotFound, "volume %s not found", req.VolumeId)
	}
	if err := checkCapabilities(req.VolumeCapabilities); err != nil {
		return &csi.ValidateVolumeCapabilitiesResponse{Message: err.Error()}, nil
	}
	return &csi.ValidateVolumeCapabilitiesResponse{Confirmed: &csi.ValidateVolumeCapabilitiesResponse_Confirmed{
		VolumeContext: req.VolumeContext, VolumeCapabilities: req.VolumeCapabilities, Parameters: req.Parameters,
	}}, nil
}

// ---- Snapshots ----

type snapParams struct {
	readyDelay time.Duration
	fail       bool
}

func parseParams(p map[string]string) (snapParams, error) {
	var out snapParams
	if s, ok := p[paramReadyDelay]; ok {
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 {
			return out, status.Errorf(codes.InvalidArgument, "parameter %s=%q: want a duration such as 10s", paramReadyDelay, s)
		}
		out.readyDelay = d
	}
	out.fail = p[paramFailSnapshots] == "true"
	return out, nil
}

func (d *Driver) CreateSnapshot(ctx context.Context, req *csi.CreateSnapshotRequest) (*csi.CreateSnapshotResponse, error) {
	if req.GetName() == "" || req.GetSourceVolumeId() == "" {
		return nil, status.Error(codes.InvalidArgument, "name and source_volume_id are required")
	}
	params, err := parseParams(req.Parameters)
	if err != nil {
		return nil, err
	}
	if params.fail {
		return nil, status.Error(codes.Internal, "injected failure")
	}
	d.mu.Lock()
	if sn := d.st.snapshotByName(req.Name); sn != nil {
		d.mu.Unlock()
		if sn.SourceVolumeID != req.SourceVolumeId {
			return nil, status.Errorf(codes.AlreadyExists, "snapshot %q exists for volume %s", req.Name, sn.SourceVolumeID)
		}
		return &csi.CreateSnapshotResponse{Snapshot: snapshotResp(sn)}, nil
	}
	if d.st.Volumes[req.SourceVolumeId] == nil {
		d.mu.Unlock()
		return nil, status.Errorf(codes.NotFound, "source volume %s not found", req.SourceVolumeId)
	}
	keys := []string{req.Name, "vol:" + req.SourceVolumeId}
	if err := d.claim(ctx, keys...); err != nil {
		d.mu.Unlock()
		return nil, err
	}
	d.mu.Unlock()
	defer d.release(keys...)

	snaps, err := d.cut("", []string{req.SourceVolumeId}, []string{req.Name}, params)
	if err != nil {
		return nil, err
	}
	return &csi.CreateSnapshotResponse{Snapshot: snapshotResp(snaps[0])}, nil
}

// cut takes point-in-time snapshots of volIDs (all at one instant) and records them.
func (d *Driver) cut(groupID string, volIDs, names []string, params snapParams) ([]*Snapshot, error) {
	d.mu.Lock()
	var srcs, tmps []string
	snaps := make([]*Snapshot, len(volIDs))
	for i, vid := range volIDs {
		snaps[i] = &Snapshot{ID: newID("snap-"), Name: names[i], SourceVolumeID: vid, GroupID: groupID,
			SizeBytes: d.st.Volumes[vid].CapacityBytes}
		srcs = append(srcs, d.VolumePath(vid))
		tmps = append(tmps, filepath.Join(d.Dir, "snapshots", tmpPrefix+snaps[i].ID))
	}
	d.mu.Unlock()

	cutAt := time.Now().UTC()
	used, err := d.freezeAndCopy(srcs, tmps)
	for i := range snaps {
		if err == nil {
			err = os.Rename(tmps[i], d.snapshotPath(snaps[i].ID))
		}
	}
	if err != nil {
		for i := range snaps {
			os.RemoveAll(tmps[i])
			os.RemoveAll(d.snapshotPath(snaps[i].ID))
		}
		return nil, status.Errorf(codes.Internal, "snapshot %v: %v", volIDs, err)
	}

	d.mu.Lock()
	defer d.mu.Unlock()
	for i, sn := range snaps {
		// restoreSize: at least the source's capacity (as on real storage), more if data outgrew it.
		sn.SizeBytes = max(sn.SizeBytes, used[i])
		sn.CreatedAt, sn.ReadyAt = cutAt, cutAt.Add(params.readyDelay)
		d.st.Snapshots[sn.ID] = sn
	}
	if err := d.save(); err != nil {
		return nil, err
	}
	return snaps, nil
}

// freezeAndCopy stops every process using srcs, copies each src to its dst, and
// continues the processes on every path. It returns the bytes used by each copy.
func (d *Driver) freezeAndCopy(srcs, dsts []string) (used []int64, err error) {
	f, err := freeze.Freeze(srcs)
	defer func() {
		frozen := f.Thaw()
		names := make([]string, len(f.Pids()))
		for i, pid := range f.Pids() {
			names[i] = freeze.Describe(pid)
		}
		log.Printf("froze %d processes [%s] for %s to copy %s (err=%v)", len(names), strings.Join(names, ", "), frozen.Round(time.Microsecond), strings.Join(srcs, " "), err)
	}()
	if err != nil {
		return nil, fmt.Errorf("freeze: %w", err)
	}
	for i := range srcs {
		n, err := treecopy.Copy(srcs[i], dsts[i])
		if err != nil {
			return nil, err
		}
		used = append(used, n)
	}
	return used, nil
}

func snapshotResp(sn *Snapshot) *csi.Snapshot {
	return &csi.Snapshot{
		SnapshotId: sn.ID, SourceVolumeId: sn.SourceVolumeID, SizeBytes: sn.SizeBytes, GroupSnapshotId: sn.GroupID,
		CreationTime: timestamppb.New(sn.CreatedAt), ReadyToUse: !time.Now().Before(sn.ReadyAt),
	}
}

func (d *Driver) DeleteSnapshot(ctx context.Context, req *csi.DeleteSnapshotRequest) (*csi.DeleteSnapshotResponse, error) {
	if req.GetSnapshotId() == "" {
		return nil, status.Error(codes.InvalidArgument, "snapshot_id is required")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.deleteSnapshotLocked(req.SnapshotId); err != nil {
		return nil, err
	}
	return &csi.DeleteSnapshotResponse{}, d.save()
}

func (d *Driver) deleteSnapshotLocked(id string) error {
	sn := d.st.Snapshots[id]
	if sn == nil {
		return nil
	}
	if err := os.RemoveAll(d.snapshotPath(id)); err != nil {
		return status.Errorf(codes.Internal, "delete snapshot: %v", err)
	}
	delete(d.st.Snapshots, id)
	if g := d.st.Groups[sn.GroupID]; g != nil {
		g.SnapshotIDs = slices.DeleteFunc(g.SnapshotIDs, func(s string) bool { return s == id })
	}
	log.Printf("deleted snapshot %s (%s)", id, sn.Name)
	return nil
}

func (d *Driver) ListSnapshots(ctx context.Context, req *csi.ListSnapshotsRequest) (*csi.ListSnapshotsResponse, error) {
	d.mu.Lock()
	var list []*Snapshot
	for _, sn := range d.st.Snapshots {
		if (req.SnapshotId == "" || sn.ID == req.SnapshotId) && (req.SourceVolumeId == "" || sn.SourceVolumeID == req.SourceVolumeId) {
			list = append(list, sn)
		}
	}
	d.mu.Unlock()
	sort.Slice(list, func(i, j int) bool {
		if !list[i].CreatedAt.Equal(list[j].CreatedAt) {
			return list[i].CreatedAt.Before(list[j].CreatedAt)
		}
		return list[i].ID < list[j].ID
	})
	start := 0
	if req.StartingToken != "" {
		n, err := strconv.Atoi(req.StartingToken)
		if err != nil || n < 0 || n > len(list) {
			return nil, status.Errorf(codes.Aborted, "invalid starting_token %q", req.StartingToken)
		}
		start = n
	}
	end := len(list)
	if req.MaxEntries > 0 && start+int(req.MaxEntries) < end {
		end = start + int(req.MaxEntries)
	}
	resp := &csi.ListSnapshotsResponse{}
	for _, sn := range list[start:end] {
		resp.Entries = append(resp.Entries, &csi.ListSnapshotsResponse_Entry{Snapshot: snapshotResp(sn)})
	}
	if end < len(list) {
		resp.NextToken = strconv.Itoa(end)
	}
	return resp, nil
}

// ---- GroupController (VolumeGroupSnapshots) ----

func (d *Driver) GroupControllerGetCapabilities(context.Context, *csi.GroupControllerGetCapabilitiesRequest) (*csi.GroupControllerGetCapabilitiesResponse, error) {
	return &csi.GroupControllerGetCapabilitiesResponse{Capabilities: []*csi.GroupControllerServiceCapability{{
		Type: &csi.GroupControllerServiceCapability_Rpc{Rpc: &csi.GroupControllerServiceCapability_RPC{
			Type: csi.GroupControllerServiceCapability_RPC_CREATE_DELETE_GET_VOLUME_GROUP_SNAPSHOT}},
	}}}, nil
}

func (d *Driver) CreateVolumeGroupSnapshot(ctx context.Context, req *csi.CreateVolumeGroupSnapshotRequest) (*csi.CreateVolumeGroupSnapshotResponse, error) {
	if req.GetName() == "" || len(req.GetSourceVolumeIds()) == 0 {
		return nil, status.Error(codes.InvalidArgument, "name and source_volume_ids are required")
	}
	params, err := parseParams(req.Parameters)
	if err != nil {
		return nil, err
	}
	if params.fail {
		return nil, status.Error(codes.Internal, "injected failure")
	}
	vols := slices.Sorted(slices.Values(req.SourceVolumeIds))
	d.mu.Lock()
	if g := d.st.groupByName(req.Name); g != nil {
		resp := d.groupRespLocked(g)
		var have []string
		for _, s := range resp.Snapshots {
			have = append(have, s.SourceVolumeId)
		}
		same := slices.Equal(slices.Sorted(slices.Values(have)), vols)
		d.mu.Unlock()
		if !same {
			return nil, status.Errorf(codes.AlreadyExists, "group snapshot %q exists for volumes %v", req.Name, have)
		}
		return &csi.CreateVolumeGroupSnapshotResponse{GroupSnapshot: resp}, nil
	}
	keys := []string{"group:" + req.Name}
	for _, v := range vols {
		if d.st.Volumes[v] == nil {
			d.mu.Unlock()
			return nil, status.Errorf(codes.NotFound, "source volume %s not found", v)
		}
		keys = append(keys, "vol:"+v)
	}
	if err := d.claim(ctx, keys...); err != nil {
		d.mu.Unlock()
		return nil, err
	}
	d.mu.Unlock()
	defer d.release(keys...)

	g := &Group{ID: newID("group-")}
	names := make([]string, len(vols))
	for i, v := range vols {
		names[i] = req.Name + "-" + v
	}
	snaps, err := d.cut(g.ID, vols, names, params)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	g.Name, g.CreatedAt = req.Name, snaps[0].CreatedAt
	for _, sn := range snaps {
		g.SnapshotIDs = append(g.SnapshotIDs, sn.ID)
	}
	d.st.Groups[g.ID] = g
	if err := d.save(); err != nil {
		return nil, err
	}
	return &csi.CreateVolumeGroupSnapshotResponse{GroupSnapshot: d.groupRespLocked(g)}, nil
}

func (d *Driver) groupRespLocked(g *Group) *csi.VolumeGroupSnapshot {
	resp := &csi.VolumeGroupSnapshot{GroupSnapshotId: g.ID, CreationTime: timestamppb.New(g.CreatedAt), ReadyToUse: true}
	for _, id := range g.SnapshotIDs {
		if sn := d.st.Snapshots[id]; sn != nil {
			s := snapshotResp(sn)
			resp.Snapshots = append(resp.Snapshots, s)
			resp.ReadyToUse = resp.ReadyToUse && s.ReadyToUse
		}
	}
	return resp
}

func (d *Driver) GetVolumeGroupSnapshot(ctx context.Context, req *csi.GetVolumeGroupSnapshotRequest) (*csi.GetVolumeGroupSnapshotResponse, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	g := d.st.Groups[req.GetGroupSnapshotId()]
	if g == nil {
		return nil, status.Errorf(codes.NotFound, "group snapshot %s not found", req.GetGroupSnapshotId())
	}
	return &csi.GetVolumeGroupSnapshotResponse{GroupSnapshot: d.groupRespLocked(g)}, nil
}

func (d *Driver) DeleteVolumeGroupSnapshot(ctx context.Context, req *csi.DeleteVolumeGroupSnapshotRequest) (*csi.DeleteVolumeGroupSnapshotResponse, error) {
	if req.GetGroupSnapshotId() == "" {
		return nil, status.Error(codes.InvalidArgument, "group_snapshot_id is required")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	g := d.st.Groups[req.GroupSnapshotId]
	if g == nil {
		return &csi.DeleteVolumeGroupSnapshotResponse{}, nil
	}
	for _, id := range slices.Concat(g.SnapshotIDs, req.SnapshotIds) {
		if sn := d.st.Snapshots[id]; sn != nil && sn.GroupID != g.ID {
			return nil, status.Errorf(codes.InvalidArgument, "snapshot %s is not part of group %s", id, g.ID)
		}
		if err := d.deleteSnapshotLocked(id); err != nil {
			return nil, err
		}
	}
	delete(d.st.Groups, g.ID)
	return &csi.DeleteVolumeGroupSnapshotResponse{}, d.save()
}
