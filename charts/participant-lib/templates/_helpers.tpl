{{/* Chart name (the service: carts, stocks or sales). */}}
{{- define "participant-lib.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fully qualified name: the release name when it contains the chart name, so a release
named "stocks" gives the Service "stocks" that the operator's default URLs expect. */}}
{{- define "participant-lib.fullname" -}}
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

{{- define "participant-lib.selectorLabels" -}}
app.kubernetes.io/name: {{ include "participant-lib.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: participant
{{- end }}

{{- define "participant-lib.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "participant-lib.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: kubesaga
{{- end }}

{{/* Name of the Secret holding the bearer token ("" when auth is off). */}}
{{- define "participant-lib.tokenSecretName" -}}
{{- if .Values.auth.existingSecret }}
{{- .Values.auth.existingSecret }}
{{- else if .Values.auth.token }}
{{- printf "%s-token" (include "participant-lib.fullname" .) }}
{{- end }}
{{- end }}

{{- define "participant-lib.claimName" -}}
{{- default (printf "%s-data" (include "participant-lib.fullname" .)) .Values.persistence.existingClaim }}
{{- end }}
