// Package podrunner is "our kubelet" for a kwok node: it runs a real PostgreSQL
// for every pod with a postgres image and runs the pgbackup CLI for every pod with
// a kubectl-pgbackup image, as host processes, and reports their status.
package podrunner

import (
	"context"
	"fmt"
	"log"
	"maps"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
)

// Config is pod-runner's command line.
type Config struct {
	CSIState string // pgbackup-csi's --statedir: volumes are CSIState/volumes/<volumeHandle>
	WorkDir  string // per-pod files: logs, kubeconfigs, emptyDirs, the port table
	SockDir  string // parent of the PostgreSQL unix socket dirs (paths must stay < 108 bytes)
	Node     string
	CLI      string // host path of kubectl-pgbackup
	Kubectl  string // host path of kubectl
	PGBin    string // PostgreSQL binaries
	PortBase int
}

// Runner watches the pods bound to Config.Node and runs one worker per pod.
type Runner struct {
	cfg        Config
	cs         kubernetes.Interface
	dyn        dynamic.Interface
	server     string // API server URL and CA, for the ServiceAccount kubeconfigs of CLI pods
	caData     []byte
	ports      *ports
	pgUID      uint32
	pgGID      uint32
	mu         sync.Mutex
	workers    map[types.UID]*worker
	wg         sync.WaitGroup
	stopped    bool
	stopGrace  time.Duration // how long postgres gets for a fast shutdown
	retryDelay time.Duration // first back-off after a failed start
}

// New prepares a Runner from an admin rest.Config.
func New(cfg Config, rc *rest.Config) (*Runner, error) {
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, err
	}
	dyn, err := dynamic.NewForConfig(rc)
	if err != nil {
		return nil, err
	}
	ca := rc.TLSClientConfig.CAData
	if len(ca) == 0 && rc.TLSClientConfig.CAFile != "" {
		if ca, err = os.ReadFile(rc.TLSClientConfig.CAFile); err != nil {
			return nil, err
		}
	}
	return newRunner(cfg, cs, dyn, rc.Host, ca)
}

func newRunner(cfg Config, cs kubernetes.Interface, dyn dynamic.Interface, server string, ca []byte) (*Runner, error) {
	if err := os.MkdirAll(cfg.WorkDir, 0o755); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.SockDir, 0o755); err != nil {
		return nil, err
	}
	ports, err := loadPorts(filepath.Join(cfg.WorkDir, "ports.json"), cfg.PortBase)
	if err != nil {
		return nil, err
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("PostgreSQL runs as the postgres user: %w", err)
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	return &Runner{cfg: cfg, cs: cs, dyn: dyn, server: server, caData: ca, ports: ports,
		pgUID: uint32(uid), pgGID: uint32(gid), workers: map[types.UID]*worker{},
		stopGrace: 30 * time.Second, retryDelay: time.Second}, nil
}

// podKind says who runs a pod. The rule must equal the kwok Stage selector that keeps
// kwok off these pods: any spec.containers image matching postgres|kubectl-pgbackup.
type podKind int

const (
	notOurs podKind = iota
	postgresPod
	cliPod
)

func classify(pod *corev1.Pod) podKind {
	kind := notOurs
	for _, c := range pod.Spec.Containers {
		switch {
		case strings.Contains(c.Image, "kubectl-pgbackup"):
			return cliPod
		case strings.Contains(c.Image, "postgres"):
			kind = postgresPod
		}
	}
	return kind
}

// worker receives the latest state of its pod; gone means it left the API.
type worker struct {
	mu   sync.Mutex
	pod  *corev1.Pod
	gone bool
	wake chan struct{}
}

func (w *worker) set(pod *corev1.Pod, gone bool) {
	w.mu.Lock()
	w.pod, w.gone = pod, gone
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *worker) get() (*corev1.Pod, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.pod, w.gone
}

// Run watches pods until ctx ends, then stops every process it started and returns.
func (r *Runner) Run(ctx context.Context) error {
	factory := informers.NewSharedInformerFactoryWithOptions(r.cs, 0, informers.WithTweakListOptions(func(o *metav1.ListOptions) {
		o.FieldSelector = fields.OneTermEqualSelector("spec.nodeName", r.cfg.Node).String()
	}))
	inf := factory.Core().V1().Pods().Informer()
	_, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { r.observe(ctx, o, false) },
		UpdateFunc: func(_, o any) { r.observe(ctx, o, false) },
		DeleteFunc: func(o any) {
			if d, ok := o.(cache.DeletedFinalStateUnknown); ok {
				o = d.Obj
			}
			r.observe(ctx, o, true)
		},
	})
	if err != nil {
		return err
	}
	factory.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		return ctx.Err()
	}
	log.Printf("watching pods on node %s", r.cfg.Node)
	<-ctx.Done()
	factory.Shutdown()
	r.mu.Lock()
	r.stopped = true
	r.mu.Unlock()
	r.wg.Wait()
	log.Printf("all pods stopped")
	return nil
}

func (r *Runner) observe(ctx context.Context, o any, gone bool) {
	pod, ok := o.(*corev1.Pod)
	if !ok || pod.Spec.NodeName != r.cfg.Node {
		return
	}
	kind := classify(pod)
	if kind == notOurs {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	w := r.workers[pod.UID]
	if w == nil {
		if gone || r.stopped {
			return
		}
		w = &worker{wake: make(chan struct{}, 1)}
		w.set(pod, false)
		r.workers[pod.UID] = w
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			defer func() {
				r.mu.Lock()
				delete(r.workers, pod.UID)
				r.mu.Unlock()
			}()
			if kind == postgresPod {
				r.runPostgresPod(ctx, w)
			} else {
				r.runCLIPod(ctx, w)
			}
		}()
		return
	}
	w.set(pod, gone)
}

// podDir holds a pod's files; keyed by name (not uid) so a StatefulSet's re-created
// pod finds its log and port again.
func (r *Runner) podDir(pod *corev1.Pod) string {
	return filepath.Join(r.cfg.WorkDir, pod.Namespace+"_"+pod.Name)
}

// finalize ends a deleted pod's life as a kubelet does: its kwok rules go, then the
// pod object is deleted with grace 0 (only this very pod: uid precondition).
func (r *Runner) finalize(pod *corev1.Pod, gone bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := deleteRules(ctx, r.dyn, pod); err != nil {
		log.Printf("%s/%s: %v", pod.Namespace, pod.Name, err)
	}
	if gone {
		return
	}
	err := r.cs.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{
		GracePeriodSeconds: new(int64(0)),
		Preconditions:      &metav1.Preconditions{UID: &pod.UID},
	})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		log.Printf("%s/%s: delete: %v", pod.Namespace, pod.Name, err)
		return
	}
	log.Printf("%s/%s: deleted", pod.Namespace, pod.Name)
}

// terminationGrace is the pod's grace period, capped so a shutdown stays bounded.
func (r *Runner) terminationGrace(pod *corev1.Pod) time.Duration {
	g := r.stopGrace
	if s := pod.DeletionGracePeriodSeconds; s != nil {
		g = min(g, time.Duration(*s)*time.Second)
	} else if s := pod.Spec.TerminationGracePeriodSeconds; s != nil {
		g = min(g, time.Duration(*s)*time.Second)
	}
	return max(g, time.Second)
}

// backoff doubles a restart delay up to 30s, as a kubelet's CrashLoopBackOff does (shorter).
func backoff(d time.Duration) time.Duration { return min(2*d, 30*time.Second) }

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

// patch writes a status unless it equals the last one written (avoids an API write per second).
type statusWriter struct {
	r    *Runner
	last string
}

func (s *statusWriter) write(ctx context.Context, pod *corev1.Pod, st corev1.PodStatus) {
	// Compare without timestamps that change on every build.
	key := string(st.Phase)
	for _, c := range st.ContainerStatuses {
		key += fmt.Sprintf("|%s %v %d %v %v %v", c.Name, c.Ready, c.RestartCount, c.State.Running != nil, c.State.Waiting, c.State.Terminated)
	}
	if key == s.last {
		return
	}
	if err := patchStatus(ctx, s.r.cs, pod, st); err != nil {
		log.Printf("%s/%s: status: %v", pod.Namespace, pod.Name, err)
		return
	}
	s.last = key
}
