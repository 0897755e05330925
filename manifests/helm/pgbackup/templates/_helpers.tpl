{{/* The base of generated names: fullnameOverride, else the release name. */}}
{{- define "pgbackup.fullname" -}}
{{- default .Release.Name .Values.fullnameOverride | trunc 52 | trimSuffix "-" -}}
{{- end -}}

{{/* Name of the PostgreSQL StatefulSet (and its client Service). */}}
{{- define "pgbackup.postgresql.name" -}}
{{- $base := include "pgbackup.fullname" . -}}
{{- if .Values.nameOverride -}}
{{- .Values.nameOverride -}}
{{- else if contains "postgres" $base -}}
{{- $base -}}
{{- else -}}
{{- printf "%s-postgresql" $base | trunc 52 | trimSuffix "-" -}}
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
{{- printf "%s-pgbackup-api" (include "pgbackup.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Cluster-scoped names carry the namespace: several releases may live in one cluster. */}}
{{- define "pgbackup.clusterName" -}}
{{- printf "pgbackup-%s-%s" .Release.Namespace (include "pgbackup.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Labels of an object: the standard ones, then commonLabels, then `extra` (selector or contract labels, which win).
Call with (dict "root" $ "extra" (include "…selectorLabels" $)); built as a dict so no key appears twice.
*/}}
{{- define "pgbackup.labels" -}}
{{- $root := .root -}}
{{- $standard := dict
  "helm.sh/chart" (printf "%s-%s" $root.Chart.Name $root.Chart.Version | replace "+" "_")
  "app.kubernetes.io/part-of" "pgbackup"
  "app.kubernetes.io/version" $root.Chart.AppVersion
  "app.kubernetes.io/managed-by" $root.Release.Service
  "app.kubernetes.io/instance" $root.Release.Name -}}
{{- toYaml (mergeOverwrite $standard (deepCopy ($root.Values.commonLabels | default dict)) (fromYaml (.extra | default ""))) -}}
{{- end -}}

{{/* Labels of a pod template: commonLabels, then the workload's podLabels, then its selector labels (which win). */}}
{{- define "pgbackup.podLabels" -}}
{{- toYaml (mergeOverwrite (deepCopy (.root.Values.commonLabels | default dict)) (deepCopy (.pod.podLabels | default dict)) (fromYaml .selector)) -}}
{{- end -}}

{{/* Where a workload's pods may run, from its values: nodeSelector, affinity, tolerations, spread, priority. */}}
{{- define "pgbackup.podPlacement" -}}
{{- with .nodeSelector }}
nodeSelector: {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .affinity }}
affinity: {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .tolerations }}
tolerations: {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .topologySpreadConstraints }}
topologySpreadConstraints: {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .priorityClassName }}
priorityClassName: {{ . | quote }}
{{- end }}
{{- end -}}

{{/* imagePullSecrets: the chart-wide ones, then the image's own (names or {name} objects). */}}
{{- define "pgbackup.pullSecrets" -}}
{{- $secrets := list -}}
{{- range concat (.root.Values.imagePullSecrets | default list) (.image.pullSecrets | default list) -}}
{{- $secrets = append $secrets (kindIs "string" . | ternary (dict "name" .) .) -}}
{{- end -}}
{{- with $secrets }}
imagePullSecrets: {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* The pod annotations of a workload (podAnnotations), as a metadata block or nothing. */}}
{{- define "pgbackup.podAnnotations" -}}
{{- with .podAnnotations }}
annotations: {{- toYaml . | nindent 2 }}
{{- end }}
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

{{/* repository@digest when a digest is given (the tag is then only a label for people), else repository:tag. */}}
{{- define "pgbackup.image" -}}
{{- if .image.digest -}}
{{- printf "%s@%s" .image.repository .image.digest -}}
{{- else -}}
{{- printf "%s:%s" .image.repository (default .root.Chart.AppVersion .image.tag) -}}
{{- end -}}
{{- end -}}

{{/* The PostgreSQL container's environment (also the standby init container's). */}}
{{- define "pgbackup.postgresql.env" -}}
{{- $pg := .Values.postgresql -}}
- {name: POSTGRES_USER, value: postgres}
- {name: POSTGRES_DB, value: {{ $pg.auth.database | quote }}}
- name: POSTGRES_PASSWORD
  valueFrom:
    secretKeyRef: {name: {{ include "pgbackup.postgresql.secretName" . }}, key: {{ $pg.auth.secretKey }}}
- {name: PGDATA, value: /var/lib/postgresql/data/pgdata}
{{- if gt (int $pg.replicas) 1 }}
- {name: PGBACKUP_REPLICATION_USER, value: {{ $pg.replication.user | quote }}}
- name: PGBACKUP_REPLICATION_PASSWORD
  valueFrom:
    secretKeyRef: {name: {{ include "pgbackup.postgresql.secretName" . }}, key: {{ $pg.auth.replicationSecretKey }}}
{{- end }}
{{- with $pg.extraEnv }}
{{ toYaml . }}
{{- end }}
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

{{/* RBAC rules: packages/core/src/domain/kubernetesPermissions.ts PERMISSIONS (manifests/test/rbac.int.test.ts compares).
     With .statefulSet (a Role for one StatefulSet): pods/exec only into its pods (ordinals 0-9, EXEC_ORDINALS) and only
     its Lease (a create cannot be limited to a name). */}}
{{- define "pgbackup.rules.namespaced" -}}
- apiGroups: [snapshot.storage.k8s.io]
  resources: [volumesnapshots]
  verbs: [get, list, watch, create, patch, delete]
- apiGroups: [apps]
  resources: [statefulsets]
  verbs: [get, list{{ if .apiCache }}, watch{{ end }}]
- apiGroups: [""]
  resources: [pods]
  verbs: [get, list]
- apiGroups: [""]
  resources: [pods/exec]
  {{- if .statefulSet }}
  resourceNames: [{{ range $i := until 10 }}{{ if $i }}, {{ end }}{{ printf "%s-%d" $.statefulSet $i }}{{ end }}]
  {{- end }}
  verbs: [create, get]
- apiGroups: [""]
  resources: [persistentvolumeclaims]
  verbs: [get, list, patch]
- apiGroups: [groupsnapshot.storage.k8s.io]
  resources: [volumegroupsnapshots]
  verbs: [get, create, delete]
- apiGroups: [coordination.k8s.io]
  resources: [leases]
  {{- if .statefulSet }}
  resourceNames: [{{ printf "pgbackup-%s" .statefulSet | trunc 253 }}]
  {{- end }}
  verbs: [get, update, delete]
- apiGroups: [coordination.k8s.io]
  resources: [leases]
  verbs: [create]
- apiGroups: [batch]
  resources: [cronjobs]
  verbs: [get, list{{ if .apiCache }}, watch{{ end }}]
- apiGroups: [events.k8s.io]
  resources: [events]
  verbs: [get, list, create, patch]
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
- apiGroups: [""]
  resources: [pods/exec]
  verbs: [create, get]
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

{{/* PostgreSQL's ServiceAccount: postgresql.serviceAccount.name, else the StatefulSet's name when created; empty: the namespace's default. */}}
{{- define "pgbackup.postgresql.serviceAccountName" -}}
{{- $sa := .Values.postgresql.serviceAccount -}}
{{- if $sa.name -}}
{{- $sa.name -}}
{{- else if $sa.create -}}
{{- include "pgbackup.postgresql.name" . -}}
{{- end -}}
{{- end -}}

{{/*
The pod spec of a helm test pod, up to its container's command: the image, placement and pull secrets of the workload
it tests (.workload: the backup's or the API's values), the backup's ServiceAccount (so the doctor meets the backup's
RBAC), hardened like the backup Job.
*/}}
{{- define "pgbackup.test.podSpec" -}}
{{- $b := .workload -}}
serviceAccountName: {{ include "pgbackup.backup.name" .root }}
automountServiceAccountToken: true
enableServiceLinks: false
restartPolicy: Never
{{- include "pgbackup.pullSecrets" (dict "root" .root "image" $b.image) }}
{{- include "pgbackup.podPlacement" $b }}
securityContext:
  runAsUser: 1000
  runAsGroup: 1000
  runAsNonRoot: true
  seccompProfile: {type: RuntimeDefault}
volumes:
  - {name: tmp, emptyDir: {sizeLimit: 16Mi}}
containers:
  - name: {{ .name }}
    image: {{ include "pgbackup.image" (dict "image" $b.image "root" .root) | quote }}
    imagePullPolicy: {{ $b.image.pullPolicy }}
    resources:
      requests: {cpu: 10m, memory: 64Mi}
      limits: {memory: 128Mi}
    securityContext:
      allowPrivilegeEscalation: false
      readOnlyRootFilesystem: true
      capabilities: {drop: [ALL]}
    volumeMounts:
      - {name: tmp, mountPath: /tmp}
{{- end -}}
