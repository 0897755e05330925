package podrunner

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	authv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"pgbackup.local/cluster/internal/freeze"
	"pgbackup.local/cluster/internal/treecopy"
)

const pgBin = "/usr/lib/postgresql/15/bin"

// openDir is a temp dir the postgres user can traverse (t.TempDir is 0700).
func openDir(t *testing.T) string {
	t.Helper()
	d := t.TempDir()
	for _, p := range []string{d, filepath.Dir(d)} {
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

func TestClassifyFollowsTheKwokStageRule(t *testing.T) {
	pod := func(images ...string) *corev1.Pod {
		p := &corev1.Pod{}
		for _, im := range images {
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Image: im})
		}
		return p
	}
	for _, tc := range []struct {
		pod  *corev1.Pod
		want podKind
	}{
		{pod("postgres:15"), postgresPod},
		{pod("docker.io/library/postgres:15-alpine", "prom/postgres-exporter"), postgresPod},
		{pod("ghcr.io/pgbackup/kubectl-pgbackup:dev"), cliPod},
		{pod("busybox", "ghcr.io/pgbackup/kubectl-pgbackup:dev"), cliPod},
		{pod("nginx"), notOurs},
	} {
		if got := classify(tc.pod); got != tc.want {
			t.Errorf("%v: got %v, want %v", tc.pod.Spec.Containers, got, tc.want)
		}
	}
}

func boundClaim(ns, claim, pv, handle string) []runtime.Object {
	return []runtime.Object{
		&corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: claim, Namespace: ns},
			Spec: corev1.PersistentVolumeClaimSpec{VolumeName: pv}, Status: corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimBound}},
		&corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: pv},
			Spec: corev1.PersistentVolumeSpec{PersistentVolumeSource: corev1.PersistentVolumeSource{CSI: &corev1.CSIPersistentVolumeSource{VolumeHandle: handle}}}},
	}
}

func TestContainerPathsMapOntoTheirVolumesDirectories(t *testing.T) {
	objs := append(boundClaim("db", "data-pg-0", "pv-1", "vol-a"), boundClaim("db", "wal-pg-0", "pv-2", "vol-b")...)
	cs := fake.NewClientset(objs...)
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "pg-0", Namespace: "db"}, Spec: corev1.PodSpec{Volumes: []corev1.Volume{
		{Name: "data", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data-pg-0"}}},
		{Name: "wal", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "wal-pg-0"}}},
		{Name: "scratch", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
	}}}
	c := &corev1.Container{VolumeMounts: []corev1.VolumeMount{
		{Name: "data", MountPath: "/var/lib/postgresql/data", SubPath: "sub"},
		{Name: "wal", MountPath: "/var/lib/postgresql/data/wal"}, // nested: must win for paths below it
		{Name: "scratch", MountPath: "/scratch"},
	}}
	csi := t.TempDir()
	if _, err := resolveMounts(context.Background(), cs, pod, c, csi, "/pods/db_pg-0"); err == nil || !strings.Contains(err.Error(), "vol-a") {
		t.Fatalf("a missing volume directory was not reported: %v", err)
	}
	for _, v := range []string{"vol-a", "vol-b"} {
		os.MkdirAll(filepath.Join(csi, "volumes", v), 0o777)
	}
	hp, err := resolveMounts(context.Background(), cs, pod, c, csi, "/pods/db_pg-0")
	if err != nil {
		t.Fatal(err)
	}
	for in, want := range map[string]string{
		"/var/lib/postgresql/data/pgdata": csi + "/volumes/vol-a/sub/pgdata",
		"/var/lib/postgresql/data":        csi + "/volumes/vol-a/sub",
		"/var/lib/postgresql/data/wal/x":  csi + "/volumes/vol-b/x",
		"/var/lib/postgresql/datax":       "/pods/db_pg-0/rootfs/var/lib/postgresql/datax",
		"/scratch/a":                      "/pods/db_pg-0/emptydir/scratch/a",
	} {
		if got, _ := hp.Host(in); got != want {
			t.Errorf("%s -> %s, want %s", in, got, want)
		}
	}

	unbound := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "data-pg-0", Namespace: "db"}, Status: corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimPending}}
	if _, err := resolveMounts(context.Background(), fake.NewClientset(unbound), pod, c, "/csi", "/pods"); err == nil || !strings.Contains(err.Error(), "not bound") {
		t.Fatalf("unbound claim: %v", err)
	}
}

func TestPortsAreStablePerPodAndSkipBusyPorts(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	busy := l.Addr().(*net.TCPAddr).Port
	file := filepath.Join(t.TempDir(), "ports.json")
	p, _ := loadPorts(file, busy)
	a, _ := p.get("db/pg-0")
	b, _ := p.get("db/pg-1")
	if a == busy || b == busy || a == b {
		t.Fatalf("ports %d %d, busy %d", a, b, busy)
	}
	again, _ := loadPorts(file, busy) // a restart of pod-runner
	if got, _ := again.get("db/pg-0"); got != a {
		t.Fatalf("pg-0 moved from %d to %d", a, got)
	}
}

func TestCLICommandsMapOntoHostPrograms(t *testing.T) {
	env := map[string]string{"NS": "db"}
	for _, tc := range []struct {
		c    corev1.Container
		want string
	}{
		{corev1.Container{Args: []string{"backup", "create", "-n", "$(NS)"}}, "/x/cli backup create -n db"},
		{corev1.Container{Command: []string{"kubectl-pgbackup"}, Args: []string{"prune"}}, "/x/cli prune"},
		{corev1.Container{Command: []string{"/usr/local/bin/kubectl"}, Args: []string{"get", "secrets"}}, "/x/kubectl get secrets"},
		{corev1.Container{Command: []string{"sh", "-c", "echo $$(NS) $(UNDEFINED)"}}, "sh -c echo $(NS) $(UNDEFINED)"},
	} {
		if got := strings.Join(cliArgv(&tc.c, env, "/x/cli", "/x/kubectl"), " "); got != tc.want {
			t.Errorf("%v %v: got %q, want %q", tc.c.Command, tc.c.Args, got, tc.want)
		}
	}
}

func TestEnvComesFromValuesFieldsSecretsAndConfigMaps(t *testing.T) {
	cs := fake.NewClientset(
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "pg", Namespace: "db"}, Data: map[string][]byte{"password": []byte("s3cret")}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cfg", Namespace: "db"}, Data: map[string]string{"A": "1"}},
	)
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "pg-0", Namespace: "db"}}
	c := &corev1.Container{
		EnvFrom: []corev1.EnvFromSource{{Prefix: "CFG_", ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}}}},
		Env: []corev1.EnvVar{
			{Name: "NS", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.namespace"}}},
			{Name: "POSTGRES_PASSWORD", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "pg"}, Key: "password"}}},
			{Name: "URL", Value: "postgres://$(NS)/x"},
		},
	}
	env, err := containerEnv(context.Background(), cs, pod, c)
	if err != nil {
		t.Fatal(err)
	}
	if env["NS"] != "db" || env["POSTGRES_PASSWORD"] != "s3cret" || env["CFG_A"] != "1" || env["URL"] != "postgres://db/x" {
		t.Fatalf("env %v", env)
	}
	c.Env = append(c.Env, corev1.EnvVar{Name: "X", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "missing"}, Key: "k"}}})
	if _, err := containerEnv(context.Background(), cs, pod, c); err == nil {
		t.Fatal("a missing secret key did not fail")
	}
}

func newPG(t *testing.T, dataDir, walDir string, port int) *pgInstance {
	t.Helper()
	if _, err := os.Stat(filepath.Join(pgBin, "postgres")); err != nil {
		t.Fatalf("PostgreSQL 15 binaries are needed: %v", err)
	}
	sock := openDir(t)
	return &pgInstance{binDir: pgBin, dataDir: dataDir, walDir: walDir, user: "postgres", db: "app", port: port,
		sockDir: filepath.Join(sock, "s"), logFile: filepath.Join(sock, "pg.log"), uid: 101, gid: 104, env: map[string]string{}}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func startReady(t *testing.T, pg *pgInstance) {
	t.Helper()
	ctx := context.Background()
	if err := pg.prepare(ctx); err != nil {
		b, _ := os.ReadFile(pg.logFile)
		t.Fatalf("prepare: %v\n%s", err, b)
	}
	if err := pg.start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pg.stop(10 * time.Second) })
	for deadline := time.Now().Add(30 * time.Second); !pg.ready(ctx); time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(pg.logFile)
			t.Fatalf("postgres not ready:\n%s", b)
		}
	}
	if err := pg.ensureDatabase(ctx); err != nil {
		t.Fatal(err)
	}
}

func psql(t *testing.T, pg *pgInstance, sql string) string {
	t.Helper()
	out, err := exec.Command(pg.bin("psql"), "-h", pg.sockDir, "-p", strconv.Itoa(pg.port), "-U", "postgres", "-d", "app", "-tAc", sql).CombinedOutput()
	if err != nil {
		t.Fatalf("psql %q: %v: %s", sql, err, out)
	}
	return strings.TrimSpace(string(out))
}

// A restored snapshot is a copy of a running server's directories: it carries a
// postmaster.pid naming a live process and a pg_wal symlink to the source's WAL volume.
func TestACopyOfARunningServerStartsOnItsOwnVolumes(t *testing.T) {
	vols := openDir(t)
	data, wal := filepath.Join(vols, "data", "pgdata"), filepath.Join(vols, "wal", "pg_wal")
	src := newPG(t, data, wal, freePort(t))
	startReady(t, src)
	psql(t, src, "CREATE TABLE t AS SELECT 42 AS x")

	f, err := freeze.Freeze([]string{filepath.Join(vols, "data"), filepath.Join(vols, "wal")})
	defer f.Thaw()
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Pids()) < 2 {
		t.Fatalf("froze %v: postgres and its backends were not found", f.Pids())
	}
	copies := openDir(t)
	for _, v := range []string{"data", "wal"} {
		if _, err := treecopy.Copy(filepath.Join(vols, v), filepath.Join(copies, v)); err != nil {
			t.Fatal(err)
		}
	}
	f.Thaw()

	dst := newPG(t, filepath.Join(copies, "data", "pgdata"), filepath.Join(copies, "wal", "pg_wal"), freePort(t))
	startReady(t, dst) // crash recovery from the copy
	if got := psql(t, dst, "SELECT x FROM t"); got != "42" {
		t.Fatalf("restored table holds %q", got)
	}
	if target, _ := os.Readlink(filepath.Join(dst.dataDir, "pg_wal")); target != dst.walDir {
		t.Fatalf("restored pg_wal points at %s, want this copy's %s", target, dst.walDir)
	}
	psql(t, dst, "INSERT INTO t VALUES (1)")
	if got := psql(t, src, "SELECT count(*) FROM t"); got != "1" {
		t.Fatalf("a write to the copy reached the source: %s rows", got)
	}
}

// harness runs a Runner against a fake API server (client-go's fake clientset).
type harness struct {
	cs    *fake.Clientset
	dyn   *dynamicfake.FakeDynamicClient
	r     *Runner
	csi   string
	stop  context.CancelFunc
	done  chan error
	rules chan string // "kind ns/name" of applied kwok rules
}

func newHarness(t *testing.T, objs ...runtime.Object) *harness {
	t.Helper()
	h := &harness{cs: fake.NewClientset(objs...), csi: openDir(t), rules: make(chan string, 100)}
	h.cs.PrependReactor("create", "serviceaccounts", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() != "token" {
			return false, nil, nil
		}
		return true, &authv1.TokenRequest{Status: authv1.TokenRequestStatus{Token: "token-of-" + a.GetNamespace()}}, nil
	})
	h.dyn = dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{
		execGVR: "ExecList", portForwardGVR: "PortForwardList", logsGVR: "LogsList"})
	h.dyn.PrependReactor("patch", "*", func(a k8stesting.Action) (bool, runtime.Object, error) {
		h.rules <- a.GetResource().Resource + " " + a.GetNamespace() + "/" + a.(k8stesting.PatchAction).GetName()
		return true, nil, nil
	})
	work := openDir(t)
	r, err := newRunner(Config{CSIState: h.csi, WorkDir: work, SockDir: filepath.Join(work, "s"), Node: "n1",
		CLI: "/bin/false", Kubectl: "/bin/false", PGBin: pgBin, PortBase: 30000 + int(time.Now().UnixNano()%20000)},
		h.cs, h.dyn, "https://127.0.0.1:6443", []byte("ca"))
	if err != nil {
		t.Fatal(err)
	}
	r.stopGrace = 10 * time.Second
	h.r = r
	ctx, cancel := context.WithCancel(context.Background())
	h.stop, h.done = cancel, make(chan error, 1)
	go func() { h.done <- r.Run(ctx) }()
	t.Cleanup(func() { h.shutdown(t) })
	return h
}

func (h *harness) shutdown(t *testing.T) {
	h.stop()
	select {
	case <-h.done:
	case <-time.After(30 * time.Second):
		t.Error("pod-runner did not stop within 30s")
	}
}

func (h *harness) pod(t *testing.T, ns, name string) *corev1.Pod {
	t.Helper()
	p, err := h.cs.CoreV1().Pods(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (h *harness) waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); !ok(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func ready(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func TestPostgresPodRunsBecomesReadyRestartsAndStopsOnDeletion(t *testing.T) {
	objs := boundClaim("db", "data-pg-0", "pv-1", "vol-a")
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "pg-0", Namespace: "db", UID: "uid-1"}, Spec: corev1.PodSpec{
		NodeName: "n1",
		Volumes:  []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data-pg-0"}}}},
		Containers: []corev1.Container{{Name: "postgres", Image: "postgres:15",
			Env:          []corev1.EnvVar{{Name: "PGDATA", Value: "/var/lib/postgresql/data/pgdata"}, {Name: "POSTGRES_DB", Value: "app"}},
			Args:         []string{"-c", "max_connections=42"},
			VolumeMounts: []corev1.VolumeMount{{Name: "data", MountPath: "/var/lib/postgresql/data"}}}},
	}}
	h := newHarness(t, append(objs, pod)...)
	if err := os.MkdirAll(filepath.Join(h.csi, "volumes", "vol-a"), 0o777); err != nil {
		t.Fatal(err)
	}
	h.waitFor(t, "pg-0 Ready", func() bool { return ready(h.pod(t, "db", "pg-0")) })
	p := h.pod(t, "db", "pg-0")
	if p.Status.Phase != corev1.PodRunning || p.Status.PodIP != "127.0.0.1" || p.Status.StartTime == nil {
		t.Fatalf("status %+v", p.Status)
	}
	if _, err := os.Stat(filepath.Join(h.csi, "volumes", "vol-a", "pgdata", "PG_VERSION")); err != nil {
		t.Fatalf("PGDATA is not on the volume: %v", err)
	}
	var rules []string
	for len(rules) < 3 {
		rules = append(rules, <-h.rules)
	}
	slices.Sort(rules)
	if want := []string{"execs db/pg-0", "logs db/pg-0", "portforwards db/pg-0"}; !slices.Equal(rules, want) {
		t.Fatalf("kwok rules %v, want %v", rules, want)
	}
	port, _ := h.r.ports.get("db/pg-0")
	pg := &pgInstance{binDir: pgBin, sockDir: filepath.Join(h.r.cfg.SockDir, "db-pg-0"), port: port}
	if got := psql(t, pg, "SHOW max_connections"); got != "42" {
		t.Fatalf("container args not honoured: max_connections=%s", got)
	}

	// postgres dying on its own is restarted and counted.
	pid, _ := os.ReadFile(filepath.Join(h.csi, "volumes", "vol-a", "pgdata", "postmaster.pid"))
	first, _ := strconv.Atoi(strings.SplitN(string(pid), "\n", 2)[0])
	if err := exec.Command("kill", "-KILL", strconv.Itoa(first)).Run(); err != nil {
		t.Fatal(err)
	}
	h.waitFor(t, "a restart", func() bool {
		p := h.pod(t, "db", "pg-0")
		return len(p.Status.ContainerStatuses) == 1 && p.Status.ContainerStatuses[0].RestartCount == 1 && ready(p)
	})

	// Deletion (deletionTimestamp set): postgres stops, then the pod object goes.
	p = h.pod(t, "db", "pg-0")
	now := metav1.Now()
	p.DeletionTimestamp = &now
	if _, err := h.cs.CoreV1().Pods("db").Update(context.Background(), p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	h.waitFor(t, "pod deleted", func() bool {
		_, err := h.cs.CoreV1().Pods("db").Get(context.Background(), "pg-0", metav1.GetOptions{})
		return err != nil
	})
	if _, err := os.Stat(filepath.Join(h.csi, "volumes", "vol-a", "pgdata", "postmaster.pid")); !os.IsNotExist(err) {
		t.Fatalf("postgres still running after deletion (postmaster.pid: %v)", err)
	}
}

func TestCLIPodRunsAsItsServiceAccountAndReportsTheExitCode(t *testing.T) {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "backup-1", Namespace: "db", UID: "uid-2"}, Spec: corev1.PodSpec{
		NodeName: "n1", ServiceAccountName: "pgbackup", RestartPolicy: corev1.RestartPolicyNever,
		Containers: []corev1.Container{{Name: "cli", Image: "ghcr.io/pgbackup/kubectl-pgbackup:dev",
			Command: []string{"sh", "-c", `echo "ns=$POD_NAMESPACE"; grep -c token-of-db "$KUBECONFIG"; exit 3`}}},
	}}
	h := newHarness(t, pod)
	h.waitFor(t, "pod Failed", func() bool { return h.pod(t, "db", "backup-1").Status.Phase == corev1.PodFailed })
	st := h.pod(t, "db", "backup-1").Status.ContainerStatuses
	if len(st) != 1 || st[0].State.Terminated == nil {
		t.Fatalf("container statuses %+v", st)
	}
	term := st[0].State.Terminated
	if term.ExitCode != 3 || term.Reason != "Error" || term.Message != "ns=db\n1" {
		t.Fatalf("terminated %+v", term)
	}
}
