{{- define "participant-lib.deployment" -}}
{{- $name := include "participant-lib.name" . }}
{{- $secret := include "participant-lib.tokenSecretName" . }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "participant-lib.fullname" . }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "participant-lib.labels" . | nindent 4 }}
spec:
  # One writer per SQLite file: at most one replica, and Recreate so that the old pod
  # lets go of the ReadWriteOnce volume before the new one starts.
  replicas: {{ .Values.replicaCount }}
  strategy:
    type: Recreate
  selector:
    matchLabels:
      {{- include "participant-lib.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "participant-lib.labels" . | nindent 8 }}
        {{- with .Values.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      annotations:
        prometheus.io/scrape: "true"
        prometheus.io/port: {{ .Values.containerPort | quote }}
        prometheus.io/path: /metrics
        {{- with .Values.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      automountServiceAccountToken: false
      {{- with .Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      terminationGracePeriodSeconds: 30
      securityContext:
        runAsNonRoot: true
        runAsUser: 65532
        runAsGroup: 65532
        # The volume's files belong to the nonroot group, so the service can write /data.
        fsGroup: 65532
        fsGroupChangePolicy: OnRootMismatch
        seccompProfile:
          type: RuntimeDefault
      containers:
        - name: {{ $name }}
          image: {{ printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) | quote }}
          imagePullPolicy: {{ .Values.image.pullPolicy }}
          command: [{{ printf "/%s" $name | quote }}]
          args:
            - --addr=:{{ .Values.containerPort }}
            - --db=/data/{{ $name }}.db
            - --log-format={{ .Values.logFormat }}
            {{- if $secret }}
            # The bearer token(s) the operator must present, one per line; the file is
            # re-read, so a rotated Secret applies without a restart.
            - --token-file=/var/run/kubesaga/token
            {{- end }}
            {{- if .Values.nats.url }}
            - --nats-url={{ .Values.nats.url }}
            {{- if .Values.nats.credsSecret }}
            - --nats-creds=/var/run/kubesaga-nats/{{ .Values.nats.credsKey }}
            {{- end }}
            {{- end }}
          env:
            - name: TMPDIR
              value: /tmp
            {{- with .Values.extraEnv }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          ports:
            - name: http
              containerPort: {{ .Values.containerPort }}
              protocol: TCP
          readinessProbe:
            httpGet:
              path: /readyz
              port: http
            periodSeconds: 5
            failureThreshold: 3
          livenessProbe:
            httpGet:
              path: /healthz
              port: http
            initialDelaySeconds: 5
            periodSeconds: 10
            failureThreshold: 3
          resources:
            {{- toYaml .Values.resources | nindent 12 }}
          securityContext:
            runAsNonRoot: true
            runAsUser: 65532
            runAsGroup: 65532
            readOnlyRootFilesystem: true
            allowPrivilegeEscalation: false
            privileged: false
            capabilities:
              drop: ["ALL"]
            seccompProfile:
              type: RuntimeDefault
          volumeMounts:
            - name: data
              mountPath: /data
            - name: tmp
              mountPath: /tmp
            {{- if $secret }}
            - name: token
              mountPath: /var/run/kubesaga
              readOnly: true
            {{- end }}
            {{- if and .Values.nats.url .Values.nats.credsSecret }}
            - name: nats-creds
              mountPath: /var/run/kubesaga-nats
              readOnly: true
            {{- end }}
      volumes:
        - name: data
          {{- if .Values.persistence.enabled }}
          persistentVolumeClaim:
            claimName: {{ include "participant-lib.claimName" . }}
          {{- else }}
          emptyDir: {}
          {{- end }}
        - name: tmp
          emptyDir: {}
        {{- if $secret }}
        - name: token
          secret:
            secretName: {{ $secret }}
            defaultMode: 0440
            items:
              - key: {{ .Values.auth.secretKey }}
                path: token
        {{- end }}
        {{- if and .Values.nats.url .Values.nats.credsSecret }}
        - name: nats-creds
          secret:
            secretName: {{ .Values.nats.credsSecret }}
            defaultMode: 0440
            items:
              - key: {{ .Values.nats.credsKey }}
                path: {{ .Values.nats.credsKey }}
        {{- end }}
      {{- with .Values.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
{{- end }}
