package podrunner

import (
	"context"
	"encoding/json"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
)

const podIP = "127.0.0.1" // every pod's processes listen on the host's loopback

// buildStatus is what a kubelet reports: phase, the four standard conditions,
// container statuses and IPs. Conditions keep their lastTransitionTime while unchanged.
func buildStatus(pod *corev1.Pod, phase corev1.PodPhase, containers []corev1.ContainerStatus, started time.Time) corev1.PodStatus {
	allReady := len(containers) > 0
	for _, c := range containers {
		allReady = allReady && c.Ready
	}
	ready := corev1.ConditionFalse
	reason := "ContainersNotReady"
	switch {
	case phase == corev1.PodRunning && allReady:
		ready, reason = corev1.ConditionTrue, ""
	case phase == corev1.PodSucceeded || phase == corev1.PodFailed:
		reason = "PodCompleted"
	}
	now := metav1.Now()
	cond := func(t corev1.PodConditionType, s corev1.ConditionStatus, reason string) corev1.PodCondition {
		c := corev1.PodCondition{Type: t, Status: s, Reason: reason, LastTransitionTime: now}
		for _, old := range pod.Status.Conditions {
			if old.Type == t && old.Status == s {
				c.LastTransitionTime = old.LastTransitionTime
			}
		}
		return c
	}
	st := corev1.PodStatus{
		Phase: phase,
		Conditions: []corev1.PodCondition{
			cond(corev1.PodScheduled, corev1.ConditionTrue, ""),
			cond(corev1.PodInitialized, corev1.ConditionTrue, ""),
			cond(corev1.ContainersReady, ready, reason),
			cond(corev1.PodReady, ready, reason),
		},
		ContainerStatuses: containers,
		HostIP:            podIP,
		HostIPs:           []corev1.HostIP{{IP: podIP}},
		PodIP:             podIP,
		PodIPs:            []corev1.PodIP{{IP: podIP}},
		QOSClass:          pod.Status.QOSClass,
	}
	if !started.IsZero() {
		t := metav1.NewTime(started)
		st.StartTime = &t
	}
	return st
}

// patchStatus replaces the pod's status, only if the pod is still the same object (uid).
func patchStatus(ctx context.Context, cs kubernetes.Interface, pod *corev1.Pod, st corev1.PodStatus) error {
	body, err := json.Marshal(map[string]any{
		"metadata": map[string]any{"uid": pod.UID}, // a precondition: a re-created pod is not ours to patch
		"status":   st,
	})
	if err != nil {
		return err
	}
	_, err = cs.CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.MergePatchType, body, metav1.PatchOptions{FieldManager: "pod-runner"}, "status")
	return err
}

func runningStatus(c *corev1.Container, ready bool, restarts int32, since time.Time) corev1.ContainerStatus {
	started := true
	return corev1.ContainerStatus{
		Name: c.Name, Image: c.Image, ImageID: c.Image, Ready: ready, Started: &started, RestartCount: restarts,
		State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(since)}},
	}
}

func waitingStatus(c *corev1.Container, reason, msg string, restarts int32) corev1.ContainerStatus {
	started := false
	return corev1.ContainerStatus{
		Name: c.Name, Image: c.Image, ImageID: c.Image, Started: &started, RestartCount: restarts,
		State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: msg}},
	}
}
