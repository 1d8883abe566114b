{{/*
Shared helpers. Every service is rendered by the same named templates from its entry in
.Values.services, so a new service is a values entry, never a copied manifest.
The templates that take a service are called with (dict "root" $ "key" $key "svc" $svc).
*/}}

{{- define "onboarding.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Release-prefixed base name: "<release>-onboarding", or the release name when it says it already. */}}
{{- define "onboarding.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The name of one component: "<fullname>-<component>". Takes (dict "root" $ "component" "x"). */}}
{{- define "onboarding.componentName" -}}
{{- printf "%s-%s" (include "onboarding.fullname" .root) .component | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "onboarding.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels of every object. Takes (dict "root" $ "component" "x"). */}}
{{- define "onboarding.labels" -}}
helm.sh/chart: {{ include "onboarding.chart" .root }}
{{ include "onboarding.selectorLabels" . }}
app.kubernetes.io/part-of: onboarding
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
{{- end -}}

{{/* Selector labels. Takes (dict "root" $ "component" "x"). */}}
{{- define "onboarding.selectorLabels" -}}
app.kubernetes.io/name: {{ include "onboarding.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/*
Image reference: registry/repository@digest when CD sets the digest, else :tag. There is no
default tag: CI tags images with the commit SHA only, so a release without one is refused
rather than pointed at a tag nobody pushed.
*/}}
{{- define "onboarding.image" -}}
{{- $root := .root -}}
{{- $repo := .svc.image.repository -}}
{{- $tag := default $root.Values.image.tag .svc.image.tag -}}
{{- if not (or .svc.image.digest $tag) -}}
{{- fail (printf "%s: set image.tag to the commit SHA images.yml pushed (or services.<name>.image.digest)" .svc.component) -}}
{{- end -}}
{{- $ref := ternary (printf "%s/%s" $root.Values.image.registry $repo) $repo (ne $root.Values.image.registry "") -}}
{{- if .svc.image.digest -}}
{{- printf "%s@%s" $ref .svc.image.digest -}}
{{- else -}}
{{- printf "%s:%s" $ref $tag -}}
{{- end -}}
{{- end -}}

{{/* The workload identity client id of a service: its own, else the release-wide one. */}}
{{- define "onboarding.clientId" -}}
{{- default .root.Values.azure.workloadIdentity.clientId .svc.workloadIdentityClientId -}}
{{- end -}}

{{/* Key Vault secrets a service reads (the entries of azure.keyVault.secrets naming it). */}}
{{- define "onboarding.serviceSecrets" -}}
{{- $out := list -}}
{{- if .root.Values.azure.keyVault.enabled -}}
{{- range .root.Values.azure.keyVault.secrets -}}
{{- if has $.key .services -}}
{{- $out = append $out . -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- toJson $out -}}
{{- end -}}

{{/* Service Bus namespace short name for KEDA ("sb-x" from "sb-x.servicebus.windows.net"). */}}
{{- define "onboarding.serviceBusShortName" -}}
{{- regexReplaceAll "\\..*$" .Values.config.serviceBus.namespace "" -}}
{{- end -}}

{{/* Hardened container securityContext; emulators may relax it through "extra". */}}
{{- define "onboarding.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
runAsUser: {{ .Values.securityContext.runAsUser }}
runAsGroup: {{ .Values.securityContext.runAsGroup }}
privileged: false
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "onboarding.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.securityContext.runAsUser }}
runAsGroup: {{ .Values.securityContext.runAsGroup }}
fsGroup: {{ .Values.securityContext.runAsGroup }}
fsGroupChangePolicy: OnRootMismatch
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Spread replicas across zones and nodes. Takes (dict "root" $ "component" "x"). */}}
{{- define "onboarding.topologySpread" -}}
{{- $spread := .root.Values.topologySpread -}}
- maxSkew: {{ $spread.zone.maxSkew }}
  topologyKey: topology.kubernetes.io/zone
  whenUnsatisfiable: {{ $spread.zone.whenUnsatisfiable }}
  labelSelector:
    matchLabels:
      {{- include "onboarding.selectorLabels" . | nindent 6 }}
  matchLabelKeys: ["pod-template-hash"]
- maxSkew: {{ $spread.hostname.maxSkew }}
  topologyKey: kubernetes.io/hostname
  whenUnsatisfiable: {{ $spread.hostname.whenUnsatisfiable }}
  labelSelector:
    matchLabels:
      {{- include "onboarding.selectorLabels" . | nindent 6 }}
  matchLabelKeys: ["pod-template-hash"]
{{- end -}}

{{/*
Environment variables from Secrets: the service's Key Vault secrets (synced by its
SecretProviderClass) and the emulators' credentials. Takes (dict "root" $ "key" "x" "svc" $svc).
*/}}
{{- define "onboarding.secretEnv" -}}
{{- $root := .root -}}
{{- $name := include "onboarding.componentName" (dict "root" $root "component" .svc.component) -}}
{{- range (include "onboarding.serviceSecrets" . | fromJsonArray) }}
- name: {{ .envVar }}
  valueFrom:
    secretKeyRef:
      name: {{ $name }}-keyvault
      key: {{ .envVar }}
{{- end }}
{{- if $root.Values.serviceBusEmulator.enabled }}
- name: SERVICEBUS_CONNECTION_STRING
  valueFrom:
    secretKeyRef:
      name: {{ include "onboarding.fullname" $root }}-emulators
      key: SERVICEBUS_CONNECTION_STRING
{{- end }}
{{- if $root.Values.cosmosEmulator.enabled }}
- name: COSMOS_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "onboarding.fullname" $root }}-emulators
      key: COSMOS_KEY
{{- end }}
{{- end -}}

{{/*
The volumes of a service's pod: /tmp, /data (the shared claim in dev setups) and its Key Vault
secrets. Takes (dict "root" $ "key" "x" "svc" $svc).
*/}}
{{- define "onboarding.volumes" -}}
{{- $root := .root -}}
{{- $name := include "onboarding.componentName" (dict "root" $root "component" .svc.component) -}}
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
- name: data
  {{- if $root.Values.embedded.persistence.enabled }}
  persistentVolumeClaim:
    claimName: {{ include "onboarding.fullname" $root }}-data
  {{- else }}
  emptyDir:
    sizeLimit: {{ $root.Values.embedded.emptyDirSizeLimit }}
  {{- end }}
{{- if (include "onboarding.serviceSecrets" . | fromJsonArray) }}
- name: keyvault
  csi:
    driver: secrets-store.csi.k8s.io
    readOnly: true
    volumeAttributes:
      secretProviderClass: {{ $name }}
{{- end }}
{{- end -}}

{{/* The volume mounts that go with onboarding.volumes. */}}
{{- define "onboarding.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
- name: data
  mountPath: /data
{{- if (include "onboarding.serviceSecrets" . | fromJsonArray) }}
- name: keyvault
  mountPath: /mnt/secrets-store
  readOnly: true
{{- end }}
{{- end -}}

{{/*
The Deployment of one service. Takes (dict "root" $ "key" "intakeApi" "svc" .Values.services.intakeApi).
*/}}
{{- define "onboarding.deployment" -}}
{{- $root := .root -}}
{{- $svc := .svc -}}
{{- $ctx := dict "root" $root "component" $svc.component -}}
{{- $name := include "onboarding.componentName" $ctx -}}
{{- $wi := $root.Values.azure.workloadIdentity.enabled -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $name }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "onboarding.labels" $ctx | nindent 4 }}
spec:
  {{- if not (or $svc.autoscaling.enabled (and $svc.keda $svc.keda.enabled)) }}
  replicas: {{ $svc.replicas }}
  {{- end }}
  revisionHistoryLimit: 5
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 25%
      maxUnavailable: 0
  selector:
    matchLabels:
      {{- include "onboarding.selectorLabels" $ctx | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "onboarding.labels" $ctx | nindent 8 }}
        {{- if $wi }}
        azure.workload.identity/use: "true"
        {{- end }}
      annotations:
        checksum/config: {{ include (print $root.Template.BasePath "/configmap.yaml") $root | sha256sum }}
        {{- with $svc.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ $name }}
      automountServiceAccountToken: false
      enableServiceLinks: false
      terminationGracePeriodSeconds: {{ $svc.terminationGracePeriodSeconds | default 30 }}
      securityContext:
        {{- include "onboarding.podSecurityContext" $root | nindent 8 }}
      {{- with $root.Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      topologySpreadConstraints:
        {{- include "onboarding.topologySpread" $ctx | nindent 8 }}
      {{- with $root.Values.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $root.Values.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      containers:
        - name: {{ $svc.component }}
          image: {{ include "onboarding.image" . | quote }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          ports:
            - name: http
              containerPort: {{ $svc.port }}
              protocol: TCP
          envFrom:
            - configMapRef:
                name: {{ include "onboarding.fullname" $root }}-config
          env:
            - name: PORT
              value: {{ $svc.port | quote }}
            {{- range $k, $v := $svc.env }}
            - name: {{ $k }}
              value: {{ $v | quote }}
            {{- end }}
            {{- with include "onboarding.secretEnv" . }}
            {{- . | trim | nindent 12 }}
            {{- end }}
          startupProbe:
            httpGet:
              path: {{ $svc.probes.startup }}
              port: http
            periodSeconds: 2
            timeoutSeconds: 2
            failureThreshold: 30
          livenessProbe:
            httpGet:
              path: {{ $svc.probes.liveness }}
              port: http
            periodSeconds: 10
            timeoutSeconds: 2
            failureThreshold: 3
          readinessProbe:
            httpGet:
              path: {{ $svc.probes.readiness }}
              port: http
            periodSeconds: 5
            timeoutSeconds: 2
            failureThreshold: 3
          lifecycle:
            preStop:
              # Let the endpoints controller and the ingress stop sending traffic first.
              exec:
                command: ["sleep", "5"]
          resources:
            {{- toYaml $svc.resources | nindent 12 }}
          securityContext:
            {{- include "onboarding.containerSecurityContext" $root | nindent 12 }}
          volumeMounts:
            {{- include "onboarding.volumeMounts" . | trim | nindent 12 }}
      volumes:
        {{- include "onboarding.volumes" . | trim | nindent 8 }}
{{- end -}}

{{/* Egress rules to Azure: the private endpoint subnet and the public endpoints. Takes $. */}}
{{- define "onboarding.azureEgressRules" -}}
{{- $e := .Values.networkPolicy.azureEgress -}}
{{- with $e.privateEndpointCidrs }}
# Private endpoints (Cosmos DB, Key Vault, Service Bus Premium): HTTPS and AMQPS.
- to:
    {{- range . }}
    - ipBlock:
        cidr: {{ . }}
    {{- end }}
  ports:
    - protocol: TCP
      port: 443
    - protocol: TCP
      port: 5671
{{- end }}
# Public Azure endpoints (Entra ID, Communication Services, Monitor, Service Bus Standard).
- to:
    {{- range $e.cidrs }}
    - ipBlock:
        cidr: {{ . }}
        {{- with $e.except }}
        except:
          {{- toYaml . | nindent 10 }}
        {{- end }}
    {{- end }}
  ports:
    - protocol: TCP
      port: 443
    - protocol: TCP
      port: 5671
{{- end -}}

{{/* Emulators are third-party images that may need root and a writable filesystem. */}}
{{- define "onboarding.emulatorSecurityContext" -}}
allowPrivilegeEscalation: false
privileged: false
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end -}}
