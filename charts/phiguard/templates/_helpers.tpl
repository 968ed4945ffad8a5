{{/* Chart name, truncated to the 63 characters a label value may have. */}}
{{- define "phiguard.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Full name: the release name, plus the chart name unless the release name already contains
it (release "phiguard" gives "phiguard", the names the controller's RBAC tests use).
*/}}
{{- define "phiguard.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "phiguard.selectorLabels" -}}
app.kubernetes.io/name: {{ include "phiguard.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "phiguard.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "phiguard.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: phiguard
{{- end }}

{{- define "phiguard.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "phiguard.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* repository:tag, or repository@digest when a digest pins it. */}}
{{- define "phiguard.image" -}}
{{- $repo := required "image.repository is required: build the image (Dockerfile) and push it to your registry" .Values.image.repository }}
{{- if .Values.image.digest }}
{{- printf "%s@%s" $repo .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" $repo (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
Whether to render a monitoring.coreos.com/v1 object: enabled, and either the cluster serves
the kind (Prometheus Operator installed) or it is forced. Call with (list . "ServiceMonitor" .Values.monitoring.serviceMonitor).
*/}}
{{- define "phiguard.monitoringEnabled" -}}
{{- $root := index . 0 }}{{ $kind := index . 1 }}{{ $v := index . 2 }}
{{- if and $v.enabled (or $v.force ($root.Capabilities.APIVersions.Has (printf "monitoring.coreos.com/v1/%s" $kind))) }}true{{ end }}
{{- end }}
