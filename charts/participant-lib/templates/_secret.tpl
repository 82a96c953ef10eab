{{- define "participant-lib.secret" -}}
{{- if and .Values.auth.token (not .Values.auth.existingSecret) }}
apiVersion: v1
kind: Secret
metadata:
  name: {{ include "participant-lib.tokenSecretName" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "participant-lib.labels" . | nindent 4 }}
type: Opaque
data:
  {{ .Values.auth.secretKey }}: {{ .Values.auth.token | b64enc | quote }}
{{- end }}
{{- end }}
