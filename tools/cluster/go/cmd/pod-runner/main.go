// pod-runner is the local cluster's kubelet for a kwok node: it runs real
// PostgreSQL servers for postgres pods and the pgbackup CLI for its Job pods, as
// host processes, and reports their status to the API server.
package main

import (
	"context"
	"flag"
	"log"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"

	"k8s.io/client-go/tools/clientcmd"

	"pgbackup.local/cluster/internal/podrunner"
)

func main() {
	kubeconfig := flag.String("kubeconfig", "", "admin kubeconfig (required)")
	csiState := flag.String("statedir", "", "pgbackup-csi's --statedir: volumes are STATEDIR/volumes/<volumeHandle> (required)")
	node := flag.String("node", "", "node whose pods to run (required)")
	cli := flag.String("cli", "kubectl-pgbackup", "kubectl-pgbackup on the host (run for CLI pods)")
	kubectl := flag.String("kubectl", "kubectl", "kubectl on the host")
	workDir := flag.String("workdir", "", "per-pod logs, kubeconfigs and ports (default: STATEDIR/../pods)")
	sockDir := flag.String("sockdir", "/tmp/pgr", "parent of PostgreSQL unix socket dirs; keep it short (108-byte socket paths)")
	pgBin := flag.String("pgbin", "/usr/lib/postgresql/15/bin", "PostgreSQL binaries")
	portBase := flag.Int("port-base", 30000, "first host port for PostgreSQL servers (one per pod name)")
	flag.Parse()
	log.SetFlags(log.LstdFlags | log.Lmicroseconds)
	if *kubeconfig == "" || *csiState == "" || *node == "" {
		log.Fatal("--kubeconfig, --statedir and --node are required")
	}
	if *workDir == "" {
		*workDir = filepath.Join(filepath.Dir(filepath.Clean(*csiState)), "pods")
	}
	cfg := podrunner.Config{CSIState: abs(*csiState), WorkDir: abs(*workDir), SockDir: abs(*sockDir), Node: *node,
		CLI: program(*cli), Kubectl: program(*kubectl), PGBin: *pgBin, PortBase: *portBase}

	rc, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		log.Fatal(err)
	}
	r, err := podrunner.New(cfg, rc)
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	log.Printf("pod-runner: node %s, volumes in %s/volumes, pod files in %s, CLI %s", cfg.Node, cfg.CSIState, cfg.WorkDir, cfg.CLI)
	if err := r.Run(ctx); err != nil {
		log.Fatal(err)
	}
}

func abs(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		log.Fatal(err)
	}
	return a
}

// program resolves a bare name through PATH; the file may appear later (the CLI is built by npm).
func program(p string) string {
	if filepath.Base(p) == p {
		if found, err := exec.LookPath(p); err == nil {
			return found
		}
		return p
	}
	if _, err := os.Stat(p); err != nil {
		log.Printf("warning: %s: %v (pods that run it will fail with exit code 127)", p, err)
	}
	return abs(p)
}
