package podrunner

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"pgbackup.local/cluster/internal/crilog"
)

// pgInstance is one PostgreSQL server run for a pod, on host paths, as the postgres user.
type pgInstance struct {
	env              map[string]string // the container's resolved env
	binDir           string
	dataDir, walDir  string // host paths; walDir is "" unless POSTGRES_INITDB_WALDIR is set
	user, password   string // superuser (POSTGRES_USER) and its password (POSTGRES_PASSWORD)
	db, hostAuth     string // POSTGRES_DB, POSTGRES_HOST_AUTH_METHOD
	initdbArgs       []string
	serverArgs       []string // -c settings taken from the container's command/args
	port             int
	sockDir, logFile string
	uid, gid         uint32

	cmd    *exec.Cmd
	exited chan error // receives cmd.Wait's result once
}

func (pg *pgInstance) bin(name string) string { return filepath.Join(pg.binDir, name) }

// asPostgres runs a command as the postgres user: PostgreSQL refuses to run as root.
func (pg *pgInstance) asPostgres(cmd *exec.Cmd) *exec.Cmd {
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Credential: &syscall.Credential{Uid: pg.uid, Gid: pg.gid, Groups: []uint32{}},
		Setpgid:    true, // its own process group, so a stop reaches every backend
	}
	cmd.Env = []string{"PATH=" + pg.binDir + ":/usr/bin:/bin", "LANG=C.UTF-8", "HOME=/var/lib/postgresql"}
	return cmd
}

// ownedDir creates dir (and parents) and gives it to postgres with mode 0700, as the
// official image's entrypoint does: initdb cannot chmod a directory it does not own.
func (pg *pgInstance) ownedDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil { // parents stay traversable for postgres
		return err
	}
	if err := os.Chown(dir, int(pg.uid), int(pg.gid)); err != nil {
		return err
	}
	return os.Chmod(dir, 0o700)
}

// prepare makes the data directory startable: initdb when it is empty, and fixes
// what a copy of another instance's directory (a restored snapshot) carries along.
func (pg *pgInstance) prepare(ctx context.Context) error {
	if err := pg.ownedDir(pg.sockDir); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(pg.logFile), 0o755); err != nil { // the pod's dir
		return err
	}
	if _, err := os.Stat(filepath.Join(pg.dataDir, "PG_VERSION")); errors.Is(err, fs.ErrNotExist) {
		return pg.initdb(ctx)
	}
	if err := pg.repointWAL(); err != nil {
		return err
	}
	return pg.clearStaleLock()
}

func (pg *pgInstance) initdb(ctx context.Context) error {
	if err := pg.ownedDir(pg.dataDir); err != nil {
		return err
	}
	args := []string{"-D", pg.dataDir, "-U", pg.user, "--encoding=UTF8", "--locale=C.UTF-8", "--auth-local=trust"}
	if pg.walDir != "" {
		if err := pg.ownedDir(pg.walDir); err != nil {
			return err
		}
		args = append(args, "--waldir="+pg.walDir)
	}
	hostAuth := pg.hostAuth
	if pg.password != "" {
		pw := filepath.Join(pg.sockDir, ".pwfile")
		if err := os.WriteFile(pw, []byte(pg.password+"\n"), 0o600); err != nil {
			return err
		}
		defer os.Remove(pw)
		if err := os.Chown(pw, int(pg.uid), int(pg.gid)); err != nil {
			return err
		}
		args = append(args, "--pwfile="+pw)
		if hostAuth == "" {
			hostAuth = "scram-sha-256" // the official image's default when a password is set
		}
	}
	if hostAuth == "" {
		hostAuth = "trust"
	}
	args = append(append(args, "--auth-host="+hostAuth), pg.initdbArgs...)
	if err := pg.runLogged(ctx, pg.bin("initdb"), args...); err != nil {
		return fmt.Errorf("initdb: %w (see %s)", err, pg.logFile)
	}
	return nil
}

// repointWAL: initdb --waldir leaves pg_wal as a symlink to an absolute host path.
// In a restored copy that path is the SOURCE pod's WAL volume, so point it at this pod's.
func (pg *pgInstance) repointWAL() error {
	link := filepath.Join(pg.dataDir, "pg_wal")
	target, err := os.Readlink(link)
	if err != nil || pg.walDir == "" || target == pg.walDir {
		return nil // a plain pg_wal directory, or already right
	}
	log.Printf("%s: pg_wal pointed at %s, re-pointing it to this pod's WAL directory %s", pg.dataDir, target, pg.walDir)
	if err := os.Remove(link); err != nil {
		return err
	}
	if err := os.Symlink(pg.walDir, link); err != nil {
		return err
	}
	return os.Lchown(link, int(pg.uid), int(pg.gid))
}

// clearStaleLock handles postmaster.pid. Left by our own earlier run (pod-runner was
// killed) and still running on this directory: stop that server. Otherwise the file
// is stale or comes from a snapshot of another instance whose pid is alive, which
// would make postgres refuse to start ("lock file already exists"): remove it.
func (pg *pgInstance) clearStaleLock() error {
	lock := filepath.Join(pg.dataDir, "postmaster.pid")
	b, err := os.ReadFile(lock)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	first, _, _ := strings.Cut(string(b), "\n")
	if pid, err := strconv.Atoi(strings.TrimSpace(first)); err == nil && pid > 0 {
		cwd, _ := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid))
		if real, _ := filepath.EvalSymlinks(pg.dataDir); cwd != "" && cwd == real {
			log.Printf("%s: stopping postgres %d left running by an earlier pod-runner", pg.dataDir, pid)
			return stopPid(pid, 30*time.Second)
		}
	}
	return os.Remove(lock)
}

// stopPid stops a postgres that is not our child: fast shutdown, then immediate, then kill.
func stopPid(pid int, grace time.Duration) error {
	for _, step := range []struct {
		sig  syscall.Signal
		wait time.Duration
	}{{syscall.SIGINT, grace}, {syscall.SIGQUIT, 5 * time.Second}, {syscall.SIGKILL, 5 * time.Second}} {
		if err := syscall.Kill(pid, step.sig); err != nil {
			return nil // gone
		}
		for deadline := time.Now().Add(step.wait); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			if syscall.Kill(pid, 0) != nil {
				return nil
			}
		}
	}
	return fmt.Errorf("postgres %d does not stop", pid)
}

func (pg *pgInstance) runLogged(ctx context.Context, name string, args ...string) error {
	l, err := crilog.Open(pg.logFile)
	if err != nil {
		return err
	}
	defer l.Close()
	l.Line(fmt.Sprintf("--- %s %s", name, strings.Join(args, " ")))
	cmd := pg.asPostgres(exec.CommandContext(ctx, name, args...))
	drained, err := l.Start(cmd)
	if err != nil {
		return err
	}
	err = cmd.Wait()
	drained()
	return err
}

// start launches postgres; its exit is reported on pg.exited.
func (pg *pgInstance) start() error {
	l, err := crilog.Open(pg.logFile)
	if err != nil {
		return err
	}
	args := append([]string{"-D", pg.dataDir}, pg.serverArgs...)
	// Ours come last: for repeated -c settings the last one wins.
	args = append(args, "-c", "listen_addresses="+podIP, "-c", "port="+strconv.Itoa(pg.port),
		"-c", "unix_socket_directories="+pg.sockDir, "-c", "fsync=on", "-c", "logging_collector=off")
	l.Line("--- postgres " + strings.Join(args, " "))
	pg.cmd = pg.asPostgres(exec.Command(pg.bin("postgres"), args...))
	pg.cmd.Dir = pg.dataDir
	drained, err := l.Start(pg.cmd)
	if err != nil {
		l.Close()
		return err
	}
	pg.exited = make(chan error, 1)
	go func(cmd *exec.Cmd, ch chan error) {
		ch <- cmd.Wait()
		drained() // after reporting: an orphaned backend may hold the log a little longer
		l.Close()
	}(pg.cmd, pg.exited)
	return nil
}

// stop: SIGINT (fast shutdown: disconnects clients, checkpoints), SIGQUIT after
// grace (immediate shutdown: crash recovery on next start), then SIGKILL the group.
func (pg *pgInstance) stop(grace time.Duration) {
	if pg.cmd == nil {
		return
	}
	pid := pg.cmd.Process.Pid
	defer func() { pg.cmd = nil }()
	for _, step := range []struct {
		sig  syscall.Signal
		wait time.Duration
	}{{syscall.SIGINT, grace}, {syscall.SIGQUIT, 5 * time.Second}, {syscall.SIGKILL, 5 * time.Second}} {
		target := pid
		if step.sig == syscall.SIGKILL {
			target = -pid // backends too
		}
		_ = syscall.Kill(target, step.sig) // ESRCH: it already exited and is waited for below
		select {
		case <-pg.exited:
			return
		case <-time.After(step.wait):
			log.Printf("postgres %d did not stop within %s after %v", pid, step.wait, step.sig)
		}
	}
}

// ready asks pg_isready over the unix socket, as a readiness probe would.
func (pg *pgInstance) ready(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	return exec.CommandContext(ctx, pg.bin("pg_isready"), "-q", "-h", pg.sockDir, "-p", strconv.Itoa(pg.port), "-U", pg.user, "-d", "postgres", "-t", "2").Run() == nil
}

// ensureDatabase creates POSTGRES_DB (default: POSTGRES_USER) like the official image.
func (pg *pgInstance) ensureDatabase(ctx context.Context) error {
	if pg.db == "postgres" {
		return nil
	}
	psql := func(sql string) ([]byte, error) {
		cmd := exec.CommandContext(ctx, pg.bin("psql"), "-h", pg.sockDir, "-p", strconv.Itoa(pg.port), "-U", pg.user,
			"-d", "postgres", "-v", "ON_ERROR_STOP=1", "-tAc", sql)
		return cmd.CombinedOutput()
	}
	ident := `"` + strings.ReplaceAll(pg.db, `"`, `""`) + `"`
	lit := "'" + strings.ReplaceAll(pg.db, "'", "''") + "'"
	out, err := psql("SELECT 1 FROM pg_database WHERE datname = " + lit)
	if err != nil {
		return fmt.Errorf("check database %s: %v: %s", pg.db, err, out)
	}
	if strings.TrimSpace(string(out)) == "1" {
		return nil
	}
	if out, err := psql("CREATE DATABASE " + ident); err != nil {
		return fmt.Errorf("create database %s: %v: %s", pg.db, err, out)
	}
	return nil
}
