{{- define "participant-lib.service" -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "participant-lib.fullname" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "participant-lib.labels" . | nindent 4 }}
spec:
  type: {{ .Values.service.type }}
  selector:
    {{- include "participant-lib.selectorLabels" . | nindent 4 }}
  ports:
    - name: http
      port: {{ .Values.service.port }}
      targetPort: http
      protocol: TCP
{{- end }}
