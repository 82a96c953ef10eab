{{- define "participant-lib.pvc" -}}
{{- if and .Values.persistence.enabled (not .Values.persistence.existingClaim) }}
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: {{ include "participant-lib.claimName" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "participant-lib.labels" . | nindent 4 }}
  {{- if .Values.persistence.keep }}
  annotations:
    # The SQLite file is the service's whole state: uninstalling keeps it.
    helm.sh/resource-policy: keep
  {{- end }}
spec:
  accessModes:
    - ReadWriteOnce
  {{- with .Values.persistence.storageClassName }}
  storageClassName: {{ . | quote }}
  {{- end }}
  resources:
    requests:
      storage: {{ .Values.persistence.size }}
{{- end }}
{{- end }}
