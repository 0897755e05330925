// Added to sigs.k8s.io/kwok/pkg/kwok/server by tools/cluster/build.sh (go build -overlay).
//
// kwok v0.8.0 returns the command's *exec.ExitError wrapped in fmt.Errorf, and k8s.io/cri-streaming's ServeExec only reports
// an exit code for errors implementing k8s.io/utils/exec.ExitError; anything else becomes an InternalError, so
// `kubectl exec ... -- sh -c 'exit 3'` exits 1. This wrapper turns the exit status into a CodeExitError, so the
// apiserver stream carries NonZeroExitCode with the real code, as with a kubelet.
package server

import (
	"context"
	"errors"
	"io"
	osexec "os/exec"
	"time"

	"k8s.io/cri-streaming/pkg/streaming/remotecommand"
	utilexec "k8s.io/utils/exec"
)

// ExecInContainer executes a command in a container and reports its exit code.
func (s *Server) ExecInContainer(ctx context.Context, name string, uid string, container string, cmd []string, in io.Reader, stdout, stderr io.WriteCloser, tty bool, resize <-chan remotecommand.TerminalSize, timeout time.Duration) error {
	err := s.execInContainerUnpatched(ctx, name, uid, container, cmd, in, stdout, stderr, tty, resize, timeout)
	var exitErr *osexec.ExitError
	if errors.As(err, &exitErr) && exitErr.Exited() {
		return utilexec.CodeExitError{Err: err, Code: exitErr.ExitCode()}
	}
	return err
}
