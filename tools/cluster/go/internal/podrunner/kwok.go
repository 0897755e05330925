package podrunner

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
)

// kwok serves `kubectl exec/port-forward/logs` for its fake nodes from these
// per-pod resources (same name and namespace as the pod): it runs exec commands
// on the host, dials host addresses and reads host files.
var (
	execGVR        = schema.GroupVersionResource{Group: "kwok.x-k8s.io", Version: "v1alpha1", Resource: "execs"}
	portForwardGVR = schema.GroupVersionResource{Group: "kwok.x-k8s.io", Version: "v1alpha1", Resource: "portforwards"}
	logsGVR        = schema.GroupVersionResource{Group: "kwok.x-k8s.io", Version: "v1alpha1", Resource: "logs"}
)

// kwokRule is one of those resources: its kind and spec.
type kwokRule struct {
	gvr  schema.GroupVersionResource
	kind string
	spec map[string]any
}

func execRule(workDir string, env map[string]string, uid, gid int64) kwokRule {
	var envs []any
	for _, k := range sortedKeys(env) {
		envs = append(envs, map[string]any{"name": k, "value": env[k]})
	}
	return kwokRule{execGVR, "Exec", map[string]any{"execs": []any{map[string]any{"local": map[string]any{
		"workDir":         workDir,
		"envs":            envs,
		"securityContext": map[string]any{"runAsUser": uid, "runAsGroup": gid},
	}}}}}
}

func portForwardRule(containerPort, hostPort int) kwokRule {
	return kwokRule{portForwardGVR, "PortForward", map[string]any{"forwards": []any{map[string]any{
		"ports":  []any{int64(containerPort)},
		"target": map[string]any{"address": podIP, "port": int64(hostPort)},
	}}}}
}

func logsRule(files map[string]string) kwokRule {
	var logs []any
	for _, c := range sortedKeys(files) {
		logs = append(logs, map[string]any{"containers": []any{c}, "logsFile": files[c], "follow": true})
	}
	return kwokRule{logsGVR, "Logs", map[string]any{"logs": logs}}
}

// applyRules creates or replaces the rules for pod, owned by it so the garbage
// collector removes them with the pod even if pod-runner is not running.
func applyRules(ctx context.Context, dyn dynamic.Interface, pod *corev1.Pod, rules ...kwokRule) error {
	for _, r := range rules {
		obj := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "kwok.x-k8s.io/v1alpha1",
			"kind":       r.kind,
			"metadata": map[string]any{
				"name": pod.Name, "namespace": pod.Namespace,
				"ownerReferences": []any{map[string]any{"apiVersion": "v1", "kind": "Pod", "name": pod.Name, "uid": string(pod.UID)}},
			},
			"spec": r.spec,
		}}
		_, err := dyn.Resource(r.gvr).Namespace(pod.Namespace).Apply(ctx, pod.Name, obj, metav1.ApplyOptions{FieldManager: "pod-runner", Force: true})
		if err != nil {
			return fmt.Errorf("apply kwok %s %s/%s: %w", r.kind, pod.Namespace, pod.Name, err)
		}
	}
	return nil
}

// deleteRules removes the pod's rules before the pod goes, so a re-created pod of
// the same name never sees rules pointing at the old pod's files.
func deleteRules(ctx context.Context, dyn dynamic.Interface, pod *corev1.Pod) error {
	for _, gvr := range []schema.GroupVersionResource{execGVR, portForwardGVR, logsGVR} {
		err := dyn.Resource(gvr).Namespace(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("delete kwok %s %s/%s: %w", gvr.Resource, pod.Namespace, pod.Name, err)
		}
	}
	return nil
}
