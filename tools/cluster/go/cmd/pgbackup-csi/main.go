// pgbackup-csi is the local cluster's CSI driver: volumes are directories and
// snapshots are point-in-time copies (the volume's processes are paused while
// it is copied). It serves Identity, Controller and GroupController on a unix
// socket for csi-provisioner and csi-snapshotter, and Node for the kubelet,
// which it registers with itself (the kubelet's plugin registration).
package main

import (
	"context"
	"flag"
	"log"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
	registration "k8s.io/kubelet/pkg/apis/pluginregistration/v1"

	"pgbackup.local/cluster/internal/csidriver"
)

const version = "0.1.0"

func main() {
	endpoint := flag.String("endpoint", "unix:///tmp/pgbackup-csi.sock", "CSI endpoint, unix:///path/to/socket")
	stateDir := flag.String("statedir", "", "directory holding volumes/, snapshots/ and state.json (required)")
	name := flag.String("drivername", "pgbackup.csi.local", "CSI driver name (the StorageClass provisioner)")
	nodeID := flag.String("nodeid", "local", "node id: the kubelet's node name (NodeGetInfo, the plugin manifest)")
	regDir := flag.String("registration-dir", "", "the kubelet's plugins_registry directory: serve the plugin registration there (optional)")
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
	lis := listen(sock)
	srv := grpc.NewServer(grpc.UnaryInterceptor(logCalls))
	csi.RegisterIdentityServer(srv, d)
	csi.RegisterControllerServer(srv, d)
	csi.RegisterGroupControllerServer(srv, d)
	csi.RegisterNodeServer(srv, d)
	var reg *grpc.Server
	if *regDir != "" {
		reg = serveRegistration(&csidriver.Registration{Driver: d, Endpoint: sock}, filepath.Join(*regDir, *name+"-reg.sock"))
	}

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		log.Printf("%v: stopping", <-sig)
		if reg != nil {
			reg.Stop()
		}
		srv.GracefulStop()
	}()
	log.Printf("%s %s serving on %s, state in %s", *name, version, sock, *stateDir)
	if err := srv.Serve(lis); err != nil {
		log.Fatal(err)
	}
}

// listen listens on the unix socket sock, replacing one left by a previous run
// (Listen would fail with EADDRINUSE).
func listen(sock string) net.Listener {
	if err := os.Remove(sock); err != nil && !os.IsNotExist(err) {
		log.Fatal(err)
	}
	lis, err := net.Listen("unix", sock)
	if err != nil {
		log.Fatal(err)
	}
	return lis
}

// serveRegistration serves the kubelet's plugin registration on sock, in the
// directory the kubelet watches (node-driver-registrar's job; its Go module is
// not served here).
func serveRegistration(r *csidriver.Registration, sock string) *grpc.Server {
	if err := os.MkdirAll(filepath.Dir(sock), 0o750); err != nil {
		log.Fatal(err)
	}
	lis := listen(sock)
	srv := grpc.NewServer(grpc.UnaryInterceptor(logCalls))
	registration.RegisterRegistrationServer(srv, r)
	go func() {
		if err := srv.Serve(lis); err != nil {
			log.Fatalf("registration: %v", err)
		}
	}()
	log.Printf("plugin registration on %s", sock)
	return srv
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
