// Package freeze stops every process that uses a set of directories, so a copy
// of those directories is a point-in-time image, like a storage array's snapshot.
package freeze

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// stopTimeout bounds the wait for a SIGSTOPped process to actually stop: a
// thread in uninterruptible sleep (state D) only stops when its I/O ends.
const stopTimeout = 10 * time.Second

// Frozen is the set of processes stopped by Freeze. Thaw continues them.
type Frozen struct {
	pids  []int
	start time.Time
}

// Pids returns the processes this freeze stopped, in the order they were stopped.
func (f *Frozen) Pids() []int { return f.pids }

// Thaw sends SIGCONT to every stopped process and returns how long they were frozen.
// It is safe to call on a partially frozen set (after an error of Freeze).
func (f *Frozen) Thaw() time.Duration {
	for _, pid := range f.pids {
		// ESRCH only means it died meanwhile; nothing else can fail for root.
		_ = syscall.Kill(pid, syscall.SIGCONT)
	}
	return time.Since(f.start)
}

// Freeze SIGSTOPs every process (except this one) whose cwd, an open fd or a
// mapped file lies under one of dirs, and waits until all their threads are
// stopped. It rescans until a scan finds no process left running, because a
// process can fork (postgres starts backends) between a scan and its SIGSTOP.
//
// The returned Frozen is never nil: callers must `defer f.Thaw()` before
// checking the error, so that processes stopped before the failure continue.
func Freeze(dirs []string) (*Frozen, error) {
	f := &Frozen{start: time.Now()}
	roots, err := canonical(dirs)
	if err != nil {
		return f, err
	}
	seen := map[int]bool{}
	for {
		pids, err := Users(roots)
		if err != nil {
			return f, err
		}
		var stopped []int
		for _, pid := range pids {
			if seen[pid] {
				continue
			}
			seen[pid] = true
			// A process stopped by someone else stays stopped after our Thaw.
			if st, err := threadStates(pid); err == nil && allStopped(st) {
				continue
			}
			if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
				if errors.Is(err, syscall.ESRCH) {
					continue
				}
				return f, fmt.Errorf("SIGSTOP %d: %w", pid, err)
			}
			f.pids = append(f.pids, pid)
			stopped = append(stopped, pid)
		}
		if len(stopped) == 0 {
			return f, nil
		}
		if err := waitStopped(stopped); err != nil {
			return f, err
		}
	}
}

// Users lists the processes other than this one whose cwd, open fds or mapped
// files lie under one of the canonical (absolute, symlink-free) roots, as the
// host sees them or, for a process in a container (another mount namespace),
// under a mount of a root (or of a directory below it, a subPath) in that
// process's namespace: /proc shows a container's paths as the container sees them.
func Users(roots []string) ([]int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	host, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	vols := Locate(ParseMountinfo(string(host)), roots)
	self := os.Getpid()
	views := map[string][]string{} // mount namespace -> the paths under which a process of it uses a root
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		base := "/proc/" + e.Name()
		ns, err := os.Readlink(base + "/ns/mnt")
		if err != nil {
			continue // vanished
		}
		v, ok := views[ns]
		if !ok {
			mi, _ := os.ReadFile(base + "/mountinfo")
			v = append(slices.Clone(roots), Views(ParseMountinfo(string(mi)), vols)...)
			views[ns] = v
		}
		if uses(base, v) {
			out = append(out, pid)
		}
	}
	return out, nil
}

func uses(base string, roots []string) bool {
	if cwd, err := os.Readlink(base + "/cwd"); err == nil && under(cwd, roots) {
		return true
	}
	fds, _ := os.ReadDir(base + "/fd") // vanished processes have no fds: not a user
	for _, fd := range fds {
		if target, err := os.Readlink(base + "/fd/" + fd.Name()); err == nil && under(target, roots) {
			return true
		}
	}
	maps, _ := os.ReadFile(base + "/maps")
	for line := range strings.Lines(string(maps)) {
		// The path is the 6th field; it is absent for anonymous mappings.
		if i := strings.Index(line, " /"); i >= 0 && under(strings.TrimSpace(line[i:]), roots) {
			return true
		}
	}
	return false
}

func under(p string, roots []string) bool {
	p = strings.TrimSuffix(p, " (deleted)")
	for _, r := range roots {
		if p == r || strings.HasPrefix(p, r+"/") || r == "/" {
			return true
		}
	}
	return false
}

// Mount is one line of /proc/PID/mountinfo (proc(5)): the filesystem's device
// (major:minor), the directory of that filesystem mounted (its root), and where.
type Mount struct{ Dev, Root, Point string }

// ParseMountinfo reads the mounts of a mountinfo text, in its order (later
// mounts over earlier ones), with the octal escapes (\040 for a space) decoded.
func ParseMountinfo(text string) []Mount {
	var out []Mount
	for line := range strings.Lines(text) {
		f := strings.Fields(line)
		if len(f) < 5 {
			continue
		}
		out = append(out, Mount{Dev: f[2], Root: unescape(f[3]), Point: unescape(f[4])})
	}
	return out
}

func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// Volume is a directory as its filesystem knows it: the device and the path from
// that filesystem's root, whatever mount it is reached through.
type Volume struct{ Dev, Path string }

// Locate finds, for each absolute path, the mount it lies in (the topmost one
// at the longest mount point above it) and so its device and filesystem path.
func Locate(mounts []Mount, paths []string) []Volume {
	var out []Volume
	for _, p := range paths {
		best := -1
		for i, m := range mounts {
			if under(p, []string{m.Point}) && (best < 0 || len(m.Point) >= len(mounts[best].Point)) {
				best = i
			}
		}
		if best >= 0 {
			m := mounts[best]
			rest := strings.TrimPrefix(strings.TrimPrefix(p, m.Point), "/")
			out = append(out, Volume{Dev: m.Dev, Path: filepath.Join(m.Root, rest)})
		}
	}
	return out
}

// Views lists the mount points under which mounts show one of vols: a mount of
// the same device whose root is the volume's directory or lies below it.
func Views(mounts []Mount, vols []Volume) []string {
	var out []string
	for _, m := range mounts {
		for _, v := range vols {
			if m.Dev == v.Dev && under(m.Root, []string{v.Path}) {
				out = append(out, m.Point)
				break
			}
		}
	}
	return out
}

// canonical resolves symlinks, because /proc shows resolved paths.
func canonical(dirs []string) ([]string, error) {
	out := make([]string, 0, len(dirs))
	for _, d := range dirs {
		abs, err := filepath.Abs(d)
		if err != nil {
			return nil, err
		}
		real, err := filepath.EvalSymlinks(abs)
		if err != nil {
			return nil, err
		}
		out = append(out, real)
	}
	return out, nil
}

func waitStopped(pids []int) error {
	deadline := time.Now().Add(stopTimeout)
	for _, pid := range pids {
		for {
			st, err := threadStates(pid)
			if err != nil || allStopped(st) { // an error means the process is gone
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("process %d did not stop within %s (thread states %q)", pid, stopTimeout, st)
			}
			time.Sleep(200 * time.Microsecond)
		}
	}
	return nil
}

// threadStates returns the state letter of every thread of pid (see proc(5)).
func threadStates(pid int) (string, error) {
	dir := "/proc/" + strconv.Itoa(pid) + "/task"
	tasks, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, t := range tasks {
		stat, err := os.ReadFile(dir + "/" + t.Name() + "/stat")
		if err != nil {
			continue // thread exited
		}
		// "pid (comm) S ...": comm may contain spaces and parentheses, so cut at the last ')'.
		i := strings.LastIndexByte(string(stat), ')')
		if i < 0 || i+2 >= len(stat) {
			return "", fmt.Errorf("unexpected stat format for %d", pid)
		}
		b.WriteByte(stat[i+2])
	}
	return b.String(), nil
}

func allStopped(states string) bool {
	for _, s := range states {
		switch s {
		case 'T', 't', 'Z', 'X':
		default:
			return false
		}
	}
	return true
}

// Describe names a process for a log: its pid, its command and, for a process
// in a container, the container's id (from its cgroup path, containerd's
// /<namespace>/<id>), e.g. "4242 postgres (container 3f2a1b0c9d8e)".
func Describe(pid int) string {
	s := strconv.Itoa(pid)
	if comm, err := os.ReadFile("/proc/" + s + "/comm"); err == nil {
		s += " " + strings.TrimSpace(string(comm))
	}
	cg, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cgroup")
	if id := ContainerID(string(cg)); id != "" {
		s += " (container " + id[:12] + ")"
	}
	return s
}

// ContainerID is the container id in a /proc/PID/cgroup text: the last element
// of a cgroup path when it is 64 hex digits, as runc and containerd name them.
func ContainerID(cgroup string) string {
	for line := range strings.Lines(cgroup) {
		p := strings.TrimSpace(line[strings.LastIndexByte(line, ':')+1:])
		id := p[strings.LastIndexByte(p, '/')+1:]
		id = strings.TrimSuffix(strings.TrimPrefix(id, "cri-containerd-"), ".scope")
		if len(id) == 64 && strings.Trim(id, "0123456789abcdef") == "" {
			return id
		}
	}
	return ""
}
