{{/* The chart's name, for app.kubernetes.io/name. */}}
{{- define "fleet-rollout.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The prefix of every object's name: the release name, followed by the chart's name unless the
release name contains it (`helm install fleet-rollout` gives deploy/'s names). Room is left for
the longest suffix, "-device-api".
*/}}
{{- define "fleet-rollout.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* The namespace of every namespaced object. */}}
{{- define "fleet-rollout.namespace" -}}
{{- default .Release.Namespace .Values.namespace.name }}
{{- end }}

{{/* The labels that select one role's pods: call with (dict "root" $ "component" "controller"). */}}
{{- define "fleet-rollout.selectorLabels" -}}
app.kubernetes.io/name: {{ include "fleet-rollout.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- if .component }}
app.kubernetes.io/component: {{ .component }}
{{- end }}
{{- end }}

{{/* The labels of every object: call with (dict "root" $ "component" "controller"), or "" for none. */}}
{{- define "fleet-rollout.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "fleet-rollout.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/part-of: fleet-rollout
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
{{- end }}

{{/* The metadata of one role's object named <fullname>-<component>: call as for labels. */}}
{{- define "fleet-rollout.metadata" -}}
name: {{ include "fleet-rollout.fullname" .root }}-{{ .component }}
namespace: {{ include "fleet-rollout.namespace" .root }}
labels:
  {{- include "fleet-rollout.labels" . | nindent 2 }}
{{- end }}

{{/* The image every role runs: repository, then @digest or :tag (default: the appVersion). */}}
{{- define "fleet-rollout.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* The Secret and key of the Postgres URL, as a secretKeyRef. */}}
{{- define "fleet-rollout.databaseSecretRef" -}}
{{- if and .Values.database.url .Values.database.existingSecret.name }}
{{- fail "database: set url (the chart creates the Secret) or existingSecret.name (you create it), not both" }}
{{- end }}
{{- if .Values.database.url -}}
{{- if not (regexMatch "^postgres(ql)?://." .Values.database.url) }}
{{- fail "database.url must be a postgres:// or postgresql:// URL" }}
{{- end -}}
{ name: {{ include "fleet-rollout.fullname" . }}-database, key: database-url }
{{- else -}}
{ name: {{ default (include "fleet-rollout.fullname" .) .Values.database.existingSecret.name }}, key: {{ .Values.database.existingSecret.key }} }
{{- end }}
{{- end }}

{{/* The Secret and key of the device API's admin token, as a secretKeyRef. */}}
{{- define "fleet-rollout.adminTokenSecretRef" -}}
{{- $token := .Values.deviceApi.adminToken }}
{{- if and $token.value $token.existingSecret.name }}
{{- fail "deviceApi.adminToken: set value (the chart creates the Secret) or existingSecret.name (you create it), not both" }}
{{- end }}
{{- if $token.value -}}
{ name: {{ include "fleet-rollout.fullname" . }}-admin-token, key: admin-token }
{{- else -}}
{ name: {{ default (include "fleet-rollout.fullname" .) $token.existingSecret.name }}, key: {{ $token.existingSecret.key }} }
{{- end }}
{{- end }}

{{/* The webhook receiver's registries that are enabled, in a fixed order, as a list of names. */}}
{{- define "fleet-rollout.enabledRegistries" -}}
{{- range $kind := list "dockerhub" "ghcr" "harbor" "quay" "distribution" "ecr" "generic" }}
{{- if (get $.Values.webhooks.registries $kind).enabled }}
{{ $kind }}
{{- end }}
{{- end }}
{{- end }}

{{/*
The pod spec fields every role shares: image pull secrets, scheduling, no service links, and the
pod-level half of the restricted Pod Security Standard.
*/}}
{{- define "fleet-rollout.podCommon" -}}
{{- with .Values.image.pullSecrets }}
imagePullSecrets:
  {{- range . }}
  - name: {{ . }}
  {{- end }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.topologySpreadConstraints }}
topologySpreadConstraints:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
# No FLEET_ROLLOUT_* variables from other Services (a Service named `fleet-rollout` would set
# FLEET_ROLLOUT_PORT=tcp://…); KUBERNETES_SERVICE_HOST/PORT are still set.
enableServiceLinks: false
{{- end }}

{{/* The pod template's metadata of a role: call as for labels. */}}
{{- define "fleet-rollout.podMetadata" -}}
labels:
  {{- include "fleet-rollout.labels" . | nindent 2 }}
  {{- with .root.Values.podLabels }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
annotations:
  prometheus.io/scrape: "true"
  prometheus.io/port: {{ .root.Values.monitoring.metricsPort | default 8080 | quote }}
  prometheus.io/path: /metrics
  {{- if or .root.Values.database.url .root.Values.deviceApi.adminToken.value }}
  # Restarts the pods when a Secret the chart creates changes.
  checksum/secrets: {{ include (print .root.Template.BasePath "/secrets.yaml") .root | sha256sum }}
  {{- end }}
  {{- with .root.Values.podAnnotations }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end }}

{{/* The container fields every role shares: image, the restricted securityContext, /tmp. */}}
{{- define "fleet-rollout.containerCommon" -}}
image: {{ include "fleet-rollout.image" . }}
imagePullPolicy: {{ .Values.image.pullPolicy }}
ports:
  - { name: http, containerPort: 8080 }
  {{- with .Values.monitoring.metricsPort }}
  - { name: metrics, containerPort: {{ . }} }
  {{- end }}
securityContext:
  runAsNonRoot: true
  runAsUser: 1000
  runAsGroup: 1000
  allowPrivilegeEscalation: false
  readOnlyRootFilesystem: true
  capabilities: { drop: [ALL] }
{{- end }}

{{/* The container env that moves /metrics to a port of its own, when monitoring.metricsPort is set. */}}
{{- define "fleet-rollout.metricsEnv" -}}
{{- with .Values.monitoring.metricsPort }}
{{- if eq (int .) 8080 }}
{{- fail "monitoring.metricsPort: 8080 is the HTTP port; choose another port, or null for /metrics on the HTTP port" }}
{{- end }}
- { name: FLEET_ROLLOUT_METRICS_PORT, value: {{ . | quote }} }
{{- end }}
{{- end }}

{{/* The name of the container port serving /metrics. */}}
{{- define "fleet-rollout.metricsPortName" -}}
{{- if .Values.monitoring.metricsPort }}metrics{{ else }}http{{ end }}
{{- end }}
