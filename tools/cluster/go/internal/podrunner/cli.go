package podrunner

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	authv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"pgbackup.local/cluster/internal/crilog"
)

// maxMessage bounds terminated.message, like the kubelet's 2 KiB for FallbackToLogsOnError.
const maxMessage = 2048

// cliArgv maps a container's command onto host programs: no command means the
// image's entrypoint (the CLI); `kubectl-pgbackup` and `kubectl` are the host's.
func cliArgv(c *corev1.Container, env map[string]string, cli, kubectl string) []string {
	var argv []string
	for _, t := range append(append([]string{}, c.Command...), c.Args...) {
		argv = append(argv, expand(t, env))
	}
	if len(c.Command) == 0 {
		argv = append([]string{cli}, argv...)
	}
	switch filepath.Base(argv[0]) {
	case "kubectl-pgbackup":
		argv[0] = cli
	case "kubectl":
		argv[0] = kubectl
	}
	return argv
}

// serviceAccountKubeconfig writes a kubeconfig that authenticates as the pod's
// ServiceAccount with a TokenRequest token bound to the pod, so the CLI meets RBAC
// exactly as in a real pod (the token dies with the pod).
func (r *Runner) serviceAccountKubeconfig(ctx context.Context, pod *corev1.Pod, file string) error {
	sa := pod.Spec.ServiceAccountName
	if sa == "" {
		sa = "default"
	}
	auth := &clientcmdapi.AuthInfo{}
	if pod.Spec.AutomountServiceAccountToken == nil || *pod.Spec.AutomountServiceAccountToken {
		tr, err := r.cs.CoreV1().ServiceAccounts(pod.Namespace).CreateToken(ctx, sa, &authv1.TokenRequest{Spec: authv1.TokenRequestSpec{
			ExpirationSeconds: new(int64(3600)),
			BoundObjectRef:    &authv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: pod.Name, UID: pod.UID},
		}}, metav1.CreateOptions{})
		if err != nil {
			return fmt.Errorf("token for serviceaccount %s/%s: %w", pod.Namespace, sa, err)
		}
		auth.Token = tr.Status.Token
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["local"] = &clientcmdapi.Cluster{Server: r.server, CertificateAuthorityData: r.caData}
	cfg.AuthInfos[sa] = auth
	cfg.Contexts[sa] = &clientcmdapi.Context{Cluster: "local", AuthInfo: sa, Namespace: pod.Namespace}
	cfg.CurrentContext = sa
	return clientcmd.WriteToFile(*cfg, file)
}

// cliContainer is one container of a CLI pod run as a host process group.
type cliContainer struct {
	c        *corev1.Container
	logFile  string
	cmd      *exec.Cmd
	done     chan int // exit code
	started  time.Time
	restarts int32
	term     *corev1.ContainerStateTerminated // last exit
	retryAt  time.Time
}

func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ee.ExitCode()
	}
	if err != nil {
		return 128
	}
	return 0
}

// start runs the container; a command that cannot start exits with 127 like a shell.
func (cc *cliContainer) start(argv, env []string, dir string) {
	cc.done = make(chan int, 1)
	cc.started = time.Now()
	l, err := crilog.Open(cc.logFile)
	if err != nil {
		cc.done <- 127
		return
	}
	cc.cmd = exec.Command(argv[0], argv[1:]...)
	cc.cmd.Env, cc.cmd.Dir = env, dir
	cc.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // kill reaches its children
	drained, err := l.Start(cc.cmd)
	if err != nil {
		l.Line(fmt.Sprintf("pod-runner: cannot run %q: %v", argv[0], err))
		l.Close()
		cc.cmd = nil
		cc.done <- 127
		return
	}
	go func(cmd *exec.Cmd, done chan int) {
		code := exitCode(cmd.Wait())
		drained() // the termination message needs all of the output
		l.Close()
		done <- code
	}(cc.cmd, cc.done)
}

// kill sends SIGTERM to the process group, SIGKILL after grace, and waits for the exit.
func (cc *cliContainer) kill(grace time.Duration) {
	if cc.cmd == nil {
		return
	}
	pgid := -cc.cmd.Process.Pid
	_ = syscall.Kill(pgid, syscall.SIGTERM) // ESRCH: already exited
	select {
	case code := <-cc.done:
		cc.done <- code // keep it for the caller
	case <-time.After(grace):
		_ = syscall.Kill(pgid, syscall.SIGKILL)
		cc.done <- <-cc.done
	}
}

func (cc *cliContainer) status() corev1.ContainerStatus {
	switch {
	case cc.cmd != nil:
		return runningStatus(cc.c, true, cc.restarts, cc.started)
	case cc.term != nil && !cc.retryAt.IsZero():
		st := waitingStatus(cc.c, "CrashLoopBackOff", cc.term.Message, cc.restarts)
		st.LastTerminationState = corev1.ContainerState{Terminated: cc.term}
		return st
	case cc.term != nil:
		started := false
		return corev1.ContainerStatus{Name: cc.c.Name, Image: cc.c.Image, ImageID: cc.c.Image, Started: &started,
			RestartCount: cc.restarts, State: corev1.ContainerState{Terminated: cc.term}}
	default:
		return waitingStatus(cc.c, "ContainerCreating", "", cc.restarts)
	}
}

// runCLIPod runs the pod's containers to completion and reports Succeeded/Failed with
// exit codes, so the Job controller counts it; restartPolicy OnFailure/Always restarts.
func (r *Runner) runCLIPod(ctx context.Context, w *worker) {
	pod, _ := w.get()
	name := pod.Namespace + "/" + pod.Name
	sw := &statusWriter{r: r}
	var containers []*cliContainer
	dir := filepath.Join(r.podDir(pod), string(pod.UID))
	for i := range pod.Spec.Containers {
		c := &pod.Spec.Containers[i]
		containers = append(containers, &cliContainer{c: c, logFile: filepath.Join(dir, c.Name+".log")})
	}
	started := time.Now()

	switch pod.Status.Phase {
	case corev1.PodSucceeded, corev1.PodFailed:
		r.awaitDeletion(ctx, w) // finished before a pod-runner restart: nothing to run
		return
	case corev1.PodRunning:
		// Its processes died with an earlier pod-runner: report them lost, as a kubelet does.
		for _, cc := range containers {
			cc.term = &corev1.ContainerStateTerminated{ExitCode: 137, Reason: "ContainerStatusUnknown",
				Message: "pod-runner restarted while the container ran", FinishedAt: metav1.Now()}
		}
		sw.write(ctx, pod, r.cliStatus(pod, containers, started, true))
		r.awaitDeletion(ctx, w)
		return
	}

	env, argvs, err := r.prepareCLI(ctx, pod, dir, containers)
	if err != nil {
		log.Printf("%s: %v", name, err)
		for _, cc := range containers {
			cc.term = &corev1.ContainerStateTerminated{ExitCode: 128, Reason: "CreateContainerError", Message: err.Error(), FinishedAt: metav1.Now()}
		}
		sw.write(ctx, pod, r.cliStatus(pod, containers, started, true))
		r.awaitDeletion(ctx, w)
		return
	}
	if err := applyRules(ctx, r.dyn, pod, logsRule(logFiles(containers))); err != nil {
		log.Printf("%s: %v", name, err) // only `kubectl logs` suffers
	}
	for i, cc := range containers {
		cc.start(argvs[i], env[i], dir)
		log.Printf("%s: started %s: %s", name, cc.c.Name, strings.Join(argvs[i], " "))
	}

	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	delay := r.retryDelay
	for {
		var gone bool
		pod, gone = w.get()
		if gone || pod.DeletionTimestamp != nil || ctx.Err() != nil {
			for _, cc := range containers {
				cc.kill(r.terminationGrace(pod))
			}
			if ctx.Err() == nil {
				r.finalize(pod, gone)
			}
			return
		}
		finished := true
		for i, cc := range containers {
			if cc.cmd == nil && cc.term != nil && !cc.retryAt.IsZero() && !time.Now().Before(cc.retryAt) {
				cc.restarts++
				cc.retryAt = time.Time{}
				cc.start(argvs[i], env[i], dir)
			}
			finished = finished && cc.cmd == nil && cc.retryAt.IsZero() && cc.term != nil
		}
		sw.write(ctx, pod, r.cliStatus(pod, containers, started, finished))
		if finished {
			log.Printf("%s: finished", name)
			r.awaitDeletion(ctx, w)
			return
		}
		select {
		case <-w.wake:
		case <-tick.C:
		case <-ctx.Done():
		}
		for _, cc := range containers {
			select {
			case code := <-cc.done:
				cc.exited(code)
				if restart(pod.Spec.RestartPolicy, code) {
					cc.retryAt = time.Now().Add(delay)
					delay = backoff(delay)
				}
				log.Printf("%s: %s exited with %d", name, cc.c.Name, code)
			default:
			}
		}
	}
}

func (cc *cliContainer) exited(code int) {
	reason := "Completed"
	if code != 0 {
		reason = "Error"
	}
	cc.term = &corev1.ContainerStateTerminated{ExitCode: int32(code), Reason: reason, Message: crilog.Tail(cc.logFile, maxMessage),
		StartedAt: metav1.NewTime(cc.started), FinishedAt: metav1.Now()}
	cc.cmd = nil
}

func restart(policy corev1.RestartPolicy, code int) bool {
	return policy == corev1.RestartPolicyAlways || policy == corev1.RestartPolicyOnFailure && code != 0
}

func logFiles(containers []*cliContainer) map[string]string {
	out := map[string]string{}
	for _, cc := range containers {
		out[cc.c.Name] = cc.logFile
	}
	return out
}

// prepareCLI writes the ServiceAccount kubeconfig and a bin dir that puts the host's
// kubectl-pgbackup and kubectl first in PATH (for `sh -c` scripts), and builds each
// container's argv and environment.
func (r *Runner) prepareCLI(ctx context.Context, pod *corev1.Pod, dir string, containers []*cliContainer) ([][]string, [][]string, error) {
	bin := filepath.Join(dir, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		return nil, nil, err
	}
	for name, target := range map[string]string{"kubectl-pgbackup": r.cfg.CLI, "kubectl": r.cfg.Kubectl} {
		link := filepath.Join(bin, name)
		os.Remove(link)
		if err := os.Symlink(target, link); err != nil {
			return nil, nil, err
		}
	}
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := r.serviceAccountKubeconfig(ctx, pod, kubeconfig); err != nil {
		return nil, nil, err
	}
	var envs, argvs [][]string
	for _, cc := range containers {
		cenv, err := containerEnv(ctx, r.cs, pod, cc.c)
		if err != nil {
			return nil, nil, err
		}
		env := []string{"PATH=" + bin + ":" + os.Getenv("PATH"), "HOME=" + dir, "LANG=C.UTF-8", "POD_NAMESPACE=" + pod.Namespace, "POD_NAME=" + pod.Name}
		for _, k := range sortedKeys(cenv) {
			env = append(env, k+"="+cenv[k])
		}
		// Last, so it wins: in a real pod the CLI finds the in-cluster config instead.
		env = append(env, "KUBECONFIG="+kubeconfig)
		envs = append(envs, env)
		argvs = append(argvs, cliArgv(cc.c, cenv, r.cfg.CLI, r.cfg.Kubectl))
	}
	return envs, argvs, nil
}

func (r *Runner) cliStatus(pod *corev1.Pod, containers []*cliContainer, started time.Time, finished bool) corev1.PodStatus {
	var sts []corev1.ContainerStatus
	failed := false
	for _, cc := range containers {
		sts = append(sts, cc.status())
		failed = failed || cc.term != nil && cc.term.ExitCode != 0
	}
	phase := corev1.PodRunning
	if finished {
		phase = corev1.PodSucceeded
		if failed {
			phase = corev1.PodFailed
		}
	}
	return buildStatus(pod, phase, sts, started)
}

// awaitDeletion waits, for a pod with nothing left to run, until it is deleted, then finalizes it.
func (r *Runner) awaitDeletion(ctx context.Context, w *worker) {
	for {
		pod, gone := w.get()
		if gone || pod.DeletionTimestamp != nil {
			r.finalize(pod, gone)
			return
		}
		select {
		case <-w.wake:
		case <-ctx.Done():
			return
		}
	}
}
