// Package freeze stops every process that uses a set of directories, so a copy
// of those directories is a point-in-time image, like a storage array's snapshot.
package freeze

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
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
// files lie under one of the canonical (absolute, symlink-free) roots.
func Users(roots []string) ([]int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	self := os.Getpid()
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		if uses(pid, roots) {
			out = append(out, pid)
		}
	}
	return out, nil
}

func uses(pid int, roots []string) bool {
	base := "/proc/" + strconv.Itoa(pid)
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
		if p == r || strings.HasPrefix(p, r+"/") {
			return true
		}
	}
	return false
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
