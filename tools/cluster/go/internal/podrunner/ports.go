package podrunner

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"strconv"
	"sync"
)

// ports hands out one TCP port per pod name (namespace/name), stable across pod
// re-creations and pod-runner restarts (kept in a JSON file), so a StatefulSet's
// pg-0 keeps its port and the kwok PortForward target stays right.
type ports struct {
	mu    sync.Mutex
	file  string
	base  int
	byPod map[string]int
}

func loadPorts(file string, base int) (*ports, error) {
	p := &ports{file: file, base: base, byPod: map[string]int{}}
	b, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return p, nil
	}
	if err != nil {
		return nil, err
	}
	return p, json.Unmarshal(b, &p.byPod)
}

// get returns the pod's port, allocating the lowest free one from base on first use.
func (p *ports) get(pod string) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if port, ok := p.byPod[pod]; ok {
		return port, nil
	}
	used := map[int]bool{}
	for _, port := range p.byPod {
		used[port] = true
	}
	for port := p.base; port < p.base+10000; port++ {
		if used[port] || !free(port) {
			continue
		}
		p.byPod[pod] = port
		b, _ := json.MarshalIndent(p.byPod, "", "  ")
		tmp := p.file + ".tmp"
		if err := os.WriteFile(tmp, b, 0o644); err != nil {
			return 0, err
		}
		return port, os.Rename(tmp, p.file)
	}
	return 0, fmt.Errorf("no free port in %d-%d", p.base, p.base+10000)
}

// free skips ports some other program already listens on.
func free(port int) bool {
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return false
	}
	l.Close()
	return true
}
