package podrunner

import (
	"context"
	"fmt"
	"log"
	"maps"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// postgresContainer is the first container whose image names postgres.
func postgresContainer(pod *corev1.Pod) *corev1.Container {
	for i := range pod.Spec.Containers {
		if strings.Contains(pod.Spec.Containers[i].Image, "postgres") {
			return &pod.Spec.Containers[i]
		}
	}
	return nil
}

// serverArgs keeps the PostgreSQL settings of a container's command/args
// (`postgres -c wal_level=replica`, `--max_connections=50`); paths such as -D are
// container paths and are not kept.
func serverArgs(c *corev1.Container, env map[string]string) []string {
	var tokens []string
	for _, t := range append(append([]string{}, c.Command...), c.Args...) {
		tokens = append(tokens, expand(t, env))
	}
	var out []string
	for i := 0; i < len(tokens); i++ {
		t := tokens[i]
		switch {
		case t == "-c" && i+1 < len(tokens):
			out = append(out, "-c", tokens[i+1])
			i++
		case strings.HasPrefix(t, "-c") && len(t) > 2:
			out = append(out, "-c", t[2:])
		case strings.HasPrefix(t, "--") && strings.Contains(t, "="):
			out = append(out, t)
		}
	}
	return out
}

// newInstance maps the container's PGDATA (and POSTGRES_INITDB_WALDIR) onto host
// directories of its volumes and describes the server to run.
func (r *Runner) newInstance(ctx context.Context, pod *corev1.Pod, c *corev1.Container) (*pgInstance, error) {
	env, err := containerEnv(ctx, r.cs, pod, c)
	if err != nil {
		return nil, err
	}
	dir := r.podDir(pod)
	hp, err := resolveMounts(ctx, r.cs, pod, c, r.cfg.CSIState, dir)
	if err != nil {
		return nil, err
	}
	pgdata := env["PGDATA"]
	if pgdata == "" {
		pgdata = "/var/lib/postgresql/data"
	}
	dataDir, persistent := hp.Host(pgdata)
	if !persistent {
		log.Printf("%s/%s: PGDATA %s is on no volume: its data lives in %s and goes with the pod", pod.Namespace, pod.Name, pgdata, dataDir)
	}
	port, err := r.ports.get(pod.Namespace + "/" + pod.Name)
	if err != nil {
		return nil, err
	}
	pg := &pgInstance{
		env: env, binDir: r.cfg.PGBin, dataDir: dataDir,
		user: env["POSTGRES_USER"], password: env["POSTGRES_PASSWORD"], db: env["POSTGRES_DB"],
		hostAuth: env["POSTGRES_HOST_AUTH_METHOD"], initdbArgs: strings.Fields(env["POSTGRES_INITDB_ARGS"]),
		serverArgs: serverArgs(c, env), port: port,
		sockDir: filepath.Join(r.cfg.SockDir, pod.Namespace+"-"+pod.Name),
		logFile: filepath.Join(dir, c.Name+".log"), uid: r.pgUID, gid: r.pgGID,
	}
	if pg.user == "" {
		pg.user = "postgres"
	}
	if pg.db == "" {
		pg.db = pg.user
	}
	if w := env["POSTGRES_INITDB_WALDIR"]; w != "" {
		pg.walDir, _ = hp.Host(w)
	}
	return pg, nil
}

// kwokRules let `kubectl exec` run host commands against this server as the postgres
// user (psql, pg_dump, sh ... with PG* set), `kubectl port-forward pod 5432` reach it,
// and `kubectl logs` read its log.
func (r *Runner) pgRules(pod *corev1.Pod, c *corev1.Container, pg *pgInstance) []kwokRule {
	env := maps.Clone(pg.env) // like a real exec: the container's env, plus libpq's
	env["PGHOST"], env["PGPORT"], env["PGUSER"] = pg.sockDir, fmt.Sprint(pg.port), pg.user
	env["PGDATA"], env["HOME"] = pg.dataDir, pg.dataDir
	logs := map[string]string{}
	for _, other := range pod.Spec.Containers {
		logs[other.Name] = filepath.Join(r.podDir(pod), other.Name+".log")
	}
	return []kwokRule{
		execRule(pg.dataDir, env, int64(pg.uid), int64(pg.gid)),
		portForwardRule(5432, pg.port),
		logsRule(logs),
	}
}

// runPostgresPod keeps one postgres running for the pod until the pod is deleted
// (then stops it and finalizes the deletion) or pod-runner stops.
func (r *Runner) runPostgresPod(ctx context.Context, w *worker) {
	pod, _ := w.get()
	name := pod.Namespace + "/" + pod.Name
	c := postgresContainer(pod)
	sw := &statusWriter{r: r}
	var (
		pg          *pgInstance
		restarts    int32
		since       time.Time // current server's start
		podStarted  time.Time
		ready       bool
		dbEnsured   bool
		lastErr     string
		everStarted bool
		nextStart   time.Time
		delay       = r.retryDelay
	)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		var gone bool
		pod, gone = w.get()
		switch {
		case gone || pod.DeletionTimestamp != nil:
			if pg != nil {
				log.Printf("%s: deleted: stopping postgres", name)
				pg.stop(r.terminationGrace(pod))
			}
			r.finalize(pod, gone)
			return
		case ctx.Err() != nil:
			if pg != nil {
				log.Printf("%s: pod-runner stops: stopping postgres", name)
				pg.stop(r.stopGrace)
			}
			stopCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			sw.write(stopCtx, pod, buildStatus(pod, corev1.PodRunning, r.containerStatuses(pod, c, waitingStatus(c, "PodRunnerStopped", "pod-runner is not running", restarts), podStarted), podStarted))
			cancel()
			return
		}

		if pg == nil && !time.Now().Before(nextStart) {
			inst, err := r.startInstance(ctx, pod, c)
			if err != nil {
				lastErr = err.Error()
				log.Printf("%s: cannot start postgres (retry in %s): %v", name, delay, err)
				nextStart, delay = time.Now().Add(delay), backoff(delay)
			} else {
				pg, since, ready, dbEnsured, lastErr = inst, time.Now(), false, false, ""
				if podStarted.IsZero() {
					podStarted = since
				}
				everStarted = true
				log.Printf("%s: postgres started (pid %d, port %d, data %s)", name, pg.cmd.Process.Pid, pg.port, pg.dataDir)
			}
		}
		if pg != nil {
			ready = pg.ready(ctx)
			if ready && !dbEnsured {
				if err := pg.ensureDatabase(ctx); err != nil {
					log.Printf("%s: %v", name, err)
					ready = false
				} else {
					dbEnsured = true
					delay = r.retryDelay // a healthy start resets the back-off
				}
			}
		}

		var cst corev1.ContainerStatus
		phase := corev1.PodRunning
		switch {
		case pg != nil:
			cst = runningStatus(c, ready, restarts, since)
		case everStarted:
			cst = waitingStatus(c, "CrashLoopBackOff", lastErr, restarts)
		default:
			phase = corev1.PodPending
			cst = waitingStatus(c, "ContainerCreating", lastErr, restarts)
		}
		sw.write(ctx, pod, buildStatus(pod, phase, r.containerStatuses(pod, c, cst, podStarted), podStarted))

		var exited <-chan error
		if pg != nil {
			exited = pg.exited
		}
		select {
		case <-w.wake:
		case <-tick.C:
		case <-ctx.Done():
		case err := <-exited:
			restarts++
			lastErr = fmt.Sprintf("postgres exited: %v (see %s)", err, pg.logFile)
			log.Printf("%s: %s; restarting in %s", name, lastErr, delay)
			pg, ready = nil, false
			nextStart, delay = time.Now().Add(delay), backoff(delay)
		}
	}
}

// startInstance resolves, prepares (initdb) and starts postgres, then publishes the kwok rules.
func (r *Runner) startInstance(ctx context.Context, pod *corev1.Pod, c *corev1.Container) (*pgInstance, error) {
	pg, err := r.newInstance(ctx, pod, c)
	if err != nil {
		return nil, err
	}
	if err := pg.prepare(ctx); err != nil {
		return nil, err
	}
	if err := pg.start(); err != nil {
		return nil, err
	}
	if err := applyRules(ctx, r.dyn, pod, r.pgRules(pod, c, pg)...); err != nil {
		pg.stop(r.stopGrace)
		return nil, err
	}
	return pg, nil
}

// containerStatuses reports main's status and, for other containers (exporters,
// sidecars), a running ready container as kwok would: nothing runs them.
func (r *Runner) containerStatuses(pod *corev1.Pod, main *corev1.Container, st corev1.ContainerStatus, since time.Time) []corev1.ContainerStatus {
	var out []corev1.ContainerStatus
	for i := range pod.Spec.Containers {
		c := &pod.Spec.Containers[i]
		switch {
		case c.Name == main.Name:
			out = append(out, st)
		case since.IsZero():
			out = append(out, waitingStatus(c, "ContainerCreating", "", 0))
		default:
			out = append(out, runningStatus(c, true, 0, since))
		}
	}
	return out
}
