// pgbackup-csi is the local cluster's CSI driver: volumes are directories and
// snapshots are point-in-time copies (the volume's processes are paused while
// it is copied). It serves Identity, Controller and GroupController on a unix
// socket for csi-provisioner and csi-snapshotter.
package main

import (
	"context"
	"flag"
	"log"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"

	"pgbackup.local/cluster/internal/csidriver"
)

const version = "0.1.0"

func main() {
	endpoint := flag.String("endpoint", "unix:///tmp/pgbackup-csi.sock", "CSI endpoint, unix:///path/to/socket")
	stateDir := flag.String("statedir", "", "directory holding volumes/, snapshots/ and state.json (required)")
	name := flag.String("drivername", "pgbackup.csi.local", "CSI driver name (the StorageClass provisioner)")
	nodeID := flag.String("nodeid", "local", "node id reported in the plugin manifest")
	flag.Parse()
	log.SetFlags(log.LstdFlags | log.Lmicroseconds)
	if *stateDir == "" {
		log.Fatal("--statedir is required")
	}
	sock, ok := strings.CutPrefix(*endpoint, "unix://")
	if !ok {
		log.Fatalf("--endpoint must be unix:///path, got %q", *endpoint)
	}

	d, err := csidriver.New(*name, *nodeID, version, *stateDir)
	if err != nil {
		log.Fatal(err)
	}
	// A socket left by a previous run would make Listen fail with EADDRINUSE.
	if err := os.Remove(sock); err != nil && !os.IsNotExist(err) {
		log.Fatal(err)
	}
	lis, err := net.Listen("unix", sock)
	if err != nil {
		log.Fatal(err)
	}
	srv := grpc.NewServer(grpc.UnaryInterceptor(logCalls))
	csi.RegisterIdentityServer(srv, d)
	csi.RegisterControllerServer(srv, d)
	csi.RegisterGroupControllerServer(srv, d)

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		log.Printf("%v: stopping", <-sig)
		srv.GracefulStop()
	}()
	log.Printf("%s %s serving on %s, state in %s", *name, version, sock, *stateDir)
	if err := srv.Serve(lis); err != nil {
		log.Fatal(err)
	}
}

// logCalls logs every RPC except the sidecars' frequent identity probes.
func logCalls(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	start := time.Now()
	resp, err := h(ctx, req)
	if err != nil || !strings.HasPrefix(info.FullMethod, "/csi.v1.Identity/") {
		log.Printf("%s %s took %s code=%s %v", info.FullMethod, brief(req), time.Since(start).Round(time.Microsecond), status.Code(err), err)
	}
	return resp, err
}

func brief(req any) string {
	s, ok := req.(interface{ String() string })
	if !ok {
		return ""
	}
	out := s.String()
	if len(out) > 300 {
		out = out[:300] + "…"
	}
	return "{" + out + "}"
}
