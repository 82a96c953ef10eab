{{/* The gateway (gateway.enabled): its own component label, so that neither the
manager's Deployment nor its metrics Service select its pods. */}}
{{- define "kubesaga.gateway.fullname" -}}
{{- printf "%s-gateway" (include "kubesaga.fullname" . | trunc 55 | trimSuffix "-") }}
{{- end }}

{{- define "kubesaga.gateway.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kubesaga.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: gateway
{{- end }}

{{- define "kubesaga.gateway.labels" -}}
helm.sh/chart: {{ include "kubesaga.chart" . }}
{{ include "kubesaga.gateway.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: kubesaga
{{- end }}

{{- define "kubesaga.gateway.serviceAccountName" -}}
{{- if .Values.gateway.serviceAccount.create }}
{{- default (include "kubesaga.gateway.fullname" .) .Values.gateway.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.gateway.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Name of the Secret holding the tokens clients must send ("" when auth is off). */}}
{{- define "kubesaga.gateway.tokenSecretName" -}}
{{- if .Values.gateway.auth.existingSecret }}
{{- .Values.gateway.auth.existingSecret }}
{{- else if .Values.gateway.auth.token }}
{{- printf "%s-token" (include "kubesaga.gateway.fullname" .) }}
{{- end }}
{{- end }}

{{- define "kubesaga.gateway.image" -}}
{{- printf "%s:%s" .Values.gateway.image.repository (default .Chart.AppVersion .Values.gateway.image.tag) }}
{{- end }}
