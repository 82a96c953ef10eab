{{- define "participant-lib.notes" -}}
{{- $full := include "participant-lib.fullname" . -}}
{{ include "participant-lib.name" . }} is installed in namespace {{ .Release.Namespace }}.

In the cluster it answers at http://{{ $full }}.{{ .Release.Namespace }}.svc:{{ .Values.service.port }}
(give that URL to the kubesaga chart: participants.{{ include "participant-lib.name" . }}URL).
Its SQLite database is /data/{{ include "participant-lib.name" . }}.db on
{{- if .Values.persistence.enabled }} the PersistentVolumeClaim {{ include "participant-lib.claimName" . }}.
{{- else }} an emptyDir: persistence.enabled=false LOSES ALL DATA when the pod goes away.
{{- end }}
{{- if include "participant-lib.tokenSecretName" . }}
Bearer token: Secret {{ include "participant-lib.tokenSecretName" . }}, key {{ .Values.auth.secretKey }}.
{{- else }}
WARNING: no bearer token configured (auth.existingSecret): give it the same Secret as the
kubesaga chart.
{{- end }}
{{- if .Values.networkPolicy.enabled }}
NetworkPolicy: only pods labelled {{ toJson .Values.networkPolicy.operator.podLabels }} in namespace
{{ default .Release.Namespace .Values.networkPolicy.operator.namespace }}{{ if .Values.networkPolicy.metrics.enabled }} and Prometheus in namespace {{ .Values.networkPolicy.metrics.namespace }}{{ end }} may connect.
{{- end }}

Try it:
  kubectl -n {{ .Release.Namespace }} port-forward svc/{{ $full }} 8080:{{ .Values.service.port }}
  curl http://127.0.0.1:8080/readyz
{{- end }}
