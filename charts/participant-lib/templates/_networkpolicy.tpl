{{- define "participant-lib.networkpolicy" -}}
{{- if .Values.networkPolicy.enabled }}
{{- $np := .Values.networkPolicy }}
# Ingress to the service port only from the kubesaga operator's pods and from the
# Prometheus pods (for /metrics). Kubelet probes are not subject to NetworkPolicy.
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ include "participant-lib.fullname" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "participant-lib.labels" . | nindent 4 }}
spec:
  podSelector:
    matchLabels:
      {{- include "participant-lib.selectorLabels" . | nindent 6 }}
  policyTypes:
    - Ingress
  ingress:
    - from:
        - namespaceSelector:
            matchLabels:
              kubernetes.io/metadata.name: {{ default .Release.Namespace $np.operator.namespace | quote }}
          podSelector:
            matchLabels:
              {{- toYaml $np.operator.podLabels | nindent 14 }}
        # The operator chart's `helm test` Pod (the operator's labels, component "test")
        # checks /readyz; it exists only while the test runs.
        - namespaceSelector:
            matchLabels:
              kubernetes.io/metadata.name: {{ default .Release.Namespace $np.operator.namespace | quote }}
          podSelector:
            matchLabels:
              {{- toYaml (merge (dict "app.kubernetes.io/component" "test") (omit $np.operator.podLabels "app.kubernetes.io/component")) | nindent 14 }}
      ports:
        - port: http
          protocol: TCP
    {{- if $np.metrics.enabled }}
    - from:
        - namespaceSelector:
            matchLabels:
              kubernetes.io/metadata.name: {{ $np.metrics.namespace | quote }}
          {{- with $np.metrics.podLabels }}
          podSelector:
            matchLabels:
              {{- toYaml . | nindent 14 }}
          {{- end }}
      ports:
        - port: http
          protocol: TCP
    {{- end }}
    {{- with $np.extraIngress }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
{{- end }}
{{- end }}
