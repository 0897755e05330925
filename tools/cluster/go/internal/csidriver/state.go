package csidriver

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// Volume is a directory DIR/volumes/<ID>.
type Volume struct {
	ID               string    `json:"id"`
	Name             string    `json:"name"`
	CapacityBytes    int64     `json:"capacityBytes"`
	SourceSnapshotID string    `json:"sourceSnapshotId,omitempty"`
	SourceVolumeID   string    `json:"sourceVolumeId,omitempty"`
	CreatedAt        time.Time `json:"createdAt"`
}

// Snapshot is a directory DIR/snapshots/<ID>, a point-in-time copy of a volume.
type Snapshot struct {
	ID             string    `json:"id"`
	Name           string    `json:"name"`
	SourceVolumeID string    `json:"sourceVolumeId"`
	GroupID        string    `json:"groupId,omitempty"`
	SizeBytes      int64     `json:"sizeBytes"`
	CreatedAt      time.Time `json:"createdAt"`
	// ReadyAt implements the readyDelay test knob: ready_to_use is false before it.
	ReadyAt time.Time `json:"readyAt"`
}

// Group is a VolumeGroupSnapshot: snapshots of several volumes cut at one instant.
type Group struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	SnapshotIDs []string  `json:"snapshotIds"`
	CreatedAt   time.Time `json:"createdAt"`
}

type state struct {
	Volumes   map[string]*Volume   `json:"volumes"`
	Snapshots map[string]*Snapshot `json:"snapshots"`
	Groups    map[string]*Group    `json:"groups"`
}

func loadState(path string) (*state, error) {
	s := &state{Volumes: map[string]*Volume{}, Snapshots: map[string]*Snapshot{}, Groups: map[string]*Group{}}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, s); err != nil {
		return nil, err
	}
	return s, nil
}

// save writes atomically (temp file + rename) so a crash never leaves half a state.json.
func (s *state) save(path string) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".state-*.json")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func (s *state) volumeByName(name string) *Volume {
	for _, v := range s.Volumes {
		if v.Name == name {
			return v
		}
	}
	return nil
}

func (s *state) snapshotByName(name string) *Snapshot {
	for _, sn := range s.Snapshots {
		if sn.Name == name {
			return sn
		}
	}
	return nil
}

func (s *state) groupByName(name string) *Group {
	for _, g := range s.Groups {
		if g.Name == name {
			return g
		}
	}
	return nil
}

func newID(prefix string) string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // never fails on Linux (getrandom)
	return prefix + hex.EncodeToString(b)
}
