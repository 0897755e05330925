{{/* Name of the PostgreSQL StatefulSet (and its client Service). */}}
{{- define "pgbackup.postgresql.name" -}}
{{- if .Values.nameOverride -}}
{{- .Values.nameOverride -}}
{{- else if contains "postgres" .Release.Name -}}
{{- .Release.Name | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-postgresql" .Release.Name | trunc 52 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* The StatefulSet the CronJob backs up. */}}
{{- define "pgbackup.backup.statefulSet" -}}
{{- default (include "pgbackup.postgresql.name" .) .Values.backup.statefulSet -}}
{{- end -}}

{{/* CronJob, ServiceAccount, Role and RoleBinding of the backup: pgbackup-<statefulset>, as `kubectl pgbackup schedule set` names them. */}}
{{- define "pgbackup.backup.name" -}}
{{- printf "pgbackup-%s" (include "pgbackup.backup.statefulSet" .) | trunc 52 | trimSuffix "-" -}}
{{- end -}}

{{- define "pgbackup.api.name" -}}
{{- printf "%s-pgbackup-api" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Cluster-scoped names carry the namespace: several releases may live in one cluster. */}}
{{- define "pgbackup.clusterName" -}}
{{- printf "pgbackup-%s-%s" .Release.Namespace .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "pgbackup.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/part-of: pgbackup
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end -}}

{{/* labels + instance, for objects that carry no selector labels. */}}
{{- define "pgbackup.commonLabels" -}}
{{ include "pgbackup.labels" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "pgbackup.postgresql.selectorLabels" -}}
app.kubernetes.io/name: postgresql
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: database
{{- end -}}

{{- define "pgbackup.api.selectorLabels" -}}
app.kubernetes.io/name: pgbackup-api
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: api
{{- end -}}

{{/* The labels `kubectl pgbackup` finds its schedule by (CronJob, its Jobs and pods). */}}
{{- define "pgbackup.backup.labels" -}}
app.kubernetes.io/managed-by: kubectl-pgbackup
pgbackup.io/statefulset: {{ include "pgbackup.backup.statefulSet" . }}
{{- end -}}

{{- define "pgbackup.image" -}}
{{- printf "%s:%s" .image.repository (default .root.Chart.AppVersion .image.tag) -}}
{{- end -}}

{{- define "pgbackup.postgresql.secretName" -}}
{{- default (include "pgbackup.postgresql.name" .) .Values.postgresql.auth.existingSecret -}}
{{- end -}}

{{/* The retention policy as kubectl-pgbackup records it (JSON, rules that are on, in its key order). */}}
{{- define "pgbackup.backup.retention" -}}
{{- $r := dict -}}
{{- $b := .Values.backup -}}
{{- if gt (int $b.keepLast) 0 }}{{ $_ := set $r "keepLast" (int $b.keepLast) }}{{ end -}}
{{- if gt (int $b.keepDaily) 0 }}{{ $_ := set $r "keepDaily" (int $b.keepDaily) }}{{ end -}}
{{- if gt (int $b.keepWeekly) 0 }}{{ $_ := set $r "keepWeekly" (int $b.keepWeekly) }}{{ end -}}
{{- if gt (float64 $b.retentionDays) 0.0 }}{{ $_ := set $r "maxAgeDays" $b.retentionDays }}{{ end -}}
{{- if $b.timeZone }}{{ $_ := set $r "timeZone" $b.timeZone }}{{ end -}}
{{- if not (or (hasKey $r "keepLast") (hasKey $r "keepDaily") (hasKey $r "keepWeekly") (hasKey $r "maxAgeDays")) -}}
{{- fail "backup: the retention policy keeps nothing by rule; set backup.retentionDays, keepLast, keepDaily or keepWeekly above 0" -}}
{{- end -}}
{{- $parts := list -}}
{{- range $k := list "keepLast" "keepDaily" "keepWeekly" "maxAgeDays" "timeZone" -}}
{{- if hasKey $r $k }}{{ $parts = append $parts (printf "%q:%s" $k (toJson (get $r $k))) }}{{ end -}}
{{- end -}}
{{- printf "{%s}" (join "," $parts) -}}
{{- end -}}

{{/* The command of a scheduled run: packages/core/src/kubernetes/scheduleWriter.ts scheduledCommand(). */}}
{{- define "pgbackup.backup.command" -}}
{{- $b := .Values.backup -}}
{{- $sts := include "pgbackup.backup.statefulSet" . -}}
{{- $ns := .Release.Namespace -}}
{{- $flags := list -}}
{{- if gt (int $b.keepLast) 0 }}{{ $flags = append $flags (printf "--keep-last %d" (int $b.keepLast)) }}{{ end -}}
{{- if gt (int $b.keepDaily) 0 }}{{ $flags = append $flags (printf "--keep-daily %d" (int $b.keepDaily)) }}{{ end -}}
{{- if gt (int $b.keepWeekly) 0 }}{{ $flags = append $flags (printf "--keep-weekly %d" (int $b.keepWeekly)) }}{{ end -}}
{{- if gt (float64 $b.retentionDays) 0.0 }}{{ $flags = append $flags (printf "--max-age %v" $b.retentionDays) }}{{ end -}}
{{- if $b.timeZone }}{{ $flags = append $flags (printf "--time-zone %s" $b.timeZone) }}{{ end -}}
{{- $create := printf "kubectl-pgbackup create %s -n %s --type scheduled --lock-wait 15m --wait --timeout %ds" $sts $ns (int $b.waitTimeoutSeconds) -}}
{{- if $b.verify }}{{ $create = printf "id=$(%s -o name); kubectl-pgbackup verify \"${id#backup/}\" -n %s" $create $ns }}{{ end -}}
{{- printf "set -e; %s; kubectl-pgbackup prune %s -n %s %s" $create $sts $ns (join " " $flags) -}}
{{- end -}}

{{/* RBAC rules: packages/core/src/domain/permissions.ts PERMISSIONS (manifests/test/rbac.test.ts compares). */}}
{{- define "pgbackup.rules.namespaced" -}}
- apiGroups: [snapshot.storage.k8s.io]
  resources: [volumesnapshots]
  verbs: [get, list, watch, create, patch, delete]
- apiGroups: [apps]
  resources: [statefulsets]
  verbs: [get, list{{ if .watchStatefulSets }}, watch{{ end }}]
- apiGroups: [""]
  resources: [pods]
  verbs: [get, list]
- apiGroups: [""]
  resources: [pods/exec]
  verbs: [create, get]
- apiGroups: [""]
  resources: [persistentvolumeclaims]
  verbs: [get, list, patch]
- apiGroups: [groupsnapshot.storage.k8s.io]
  resources: [volumegroupsnapshots]
  verbs: [get, create, delete]
- apiGroups: [coordination.k8s.io]
  resources: [leases]
  verbs: [get, create, update, delete]
- apiGroups: [batch]
  resources: [cronjobs]
  verbs: [get, list]
{{- end -}}

{{/* packages/core/src/domain/permissions.ts VERIFY_PERMISSIONS: the scratch restore of a verifying run. */}}
{{- define "pgbackup.rules.verify" -}}
- apiGroups: [apps]
  resources: [statefulsets]
  verbs: [create, delete]
- apiGroups: [""]
  resources: [persistentvolumeclaims]
  verbs: [create, delete]
- apiGroups: [""]
  resources: [services]
  verbs: [get, create, delete]
{{- end -}}

{{- define "pgbackup.rules.cluster" -}}
- apiGroups: [snapshot.storage.k8s.io]
  resources: [volumesnapshotclasses]
  verbs: [get, list]
- apiGroups: [""]
  resources: [persistentvolumes]
  verbs: [get]
- apiGroups: [groupsnapshot.storage.k8s.io]
  resources: [volumegroupsnapshotclasses]
  verbs: [list]
{{- end -}}
