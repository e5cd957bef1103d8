{{/* Chart name, truncated to the DNS label limit. */}}
{{- define "chapterhouse.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fully qualified app name: the release name, or release-chart. */}}
{{- define "chapterhouse.fullname" -}}
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

{{- define "chapterhouse.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The gRPC services, in a fixed order. With the two tables below, this is the
chart's one list of them: every template, NOTES and the CI checks read it.
*/}}
{{- define "chapterhouse.services" -}}
membership governance activities standards
{{- end }}

{{/* Every component: the gateway, then the services. */}}
{{- define "chapterhouse.components" -}}
gateway {{ include "chapterhouse.services" . }}
{{- end }}

{{/*
Who calls whom (ARCHITECTURE.md, "Between services"). The NetworkPolicies are
generated from this table and nothing else.
*/}}
{{- define "chapterhouse.calls" -}}
gateway: [membership, governance, activities, standards]
membership: []
governance: [membership, activities]
activities: [membership, governance]
standards: [membership, governance, activities]
{{- end }}

{{/*
Whose events each service consumes (ARCHITECTURE.md, "Between services"):
each consumer reads a producer's streams from the producer's Redis, given as
<PRODUCER>_REDIS_URL from the same values that choose the producer's own.
*/}}
{{- define "chapterhouse.consumes" -}}
membership: [governance]
governance: [membership]
activities: [membership, governance]
standards: [membership, governance]
{{- end }}

{{/* Common labels. */}}
{{- define "chapterhouse.labels" -}}
helm.sh/chart: {{ include "chapterhouse.chart" . }}
app.kubernetes.io/name: {{ include "chapterhouse.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: chapterhouse
{{- end }}

{{/* Selector labels of one component: dict "root" $ "component" "membership". */}}
{{- define "chapterhouse.selectorLabels" -}}
app.kubernetes.io/name: {{ include "chapterhouse.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "chapterhouse.componentName" -}}
{{- printf "%s-%s" (include "chapterhouse.fullname" .root) .component | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* A component's values: componentDefaults overlaid with its own block, as YAML. */}}
{{- define "chapterhouse.componentValues" -}}
{{- $own := index .root.Values .component | default dict }}
{{- toYaml (mergeOverwrite (deepCopy .root.Values.componentDefaults) (deepCopy $own)) }}
{{- end }}

{{/* Image reference; refuses an empty or `latest` tag. */}}
{{- define "chapterhouse.image" -}}
{{- $tag := .image.tag | default .root.Chart.AppVersion | toString }}
{{- if or (eq $tag "") (eq $tag "latest") }}
{{- fail (printf "image tag for %s must be pinned (not empty, not latest)" .image.repository) }}
{{- end }}
{{- $registry := .image.registry | default .root.Values.image.registry }}
{{- if $registry }}{{ printf "%s/%s:%s" $registry .image.repository $tag }}{{ else }}{{ printf "%s:%s" .image.repository $tag }}{{ end }}
{{- end }}

{{/* Whether the static-key issuer is configured (its keys mounted). */}}
{{- define "chapterhouse.staticKeys" -}}
{{- if or .Values.auth.jwtPublicKeys .Values.auth.existingSecret }}true{{ end }}
{{- end }}

{{- define "chapterhouse.jwtSecretName" -}}
{{- if .Values.auth.existingSecret }}{{ .Values.auth.existingSecret }}{{ else }}{{ include "chapterhouse.fullname" . }}-jwt{{ end }}
{{- end }}

{{- define "chapterhouse.pageTokensSecretName" -}}
{{- .Values.pageTokens.existingSecret | default (printf "%s-page-tokens" (include "chapterhouse.fullname" .)) }}
{{- end }}

{{- define "chapterhouse.serviceCallsSecretName" -}}
{{- .Values.serviceCalls.existingSecret | default (printf "%s-service-calls" (include "chapterhouse.fullname" .)) }}
{{- end }}

{{- define "chapterhouse.redisName" -}}
{{- include "chapterhouse.fullname" . }}-redis
{{- end }}

{{- define "chapterhouse.redisSecretName" -}}
{{- if eq .Values.redis.mode "internal" }}
{{- .Values.redis.internal.existingSecret | default (printf "%s-redis" (include "chapterhouse.fullname" .)) }}
{{- else }}
{{- .Values.redis.external.existingSecret | default (printf "%s-redis-urls" (include "chapterhouse.fullname" .)) }}
{{- end }}
{{- end }}

{{/*
The gRPC target of a service, as the gateway and other services dial it: its
headless Service resolves to every ready pod, and clients balance over them
(round_robin) and re-resolve when a server's MaxConnectionAge closes a
connection, so pods added by a scale-up get traffic.
*/}}
{{- define "chapterhouse.serviceAddr" -}}
{{- $v := index .root.Values .component }}
{{- printf "dns:///%s.%s.svc:%v" (include "chapterhouse.componentName" .) .root.Release.Namespace $v.service.port }}
{{- end }}

{{/* The Redis URL of service .component as an env entry named .name. */}}
{{- define "chapterhouse.redisEnv" -}}
- name: {{ .name }}
{{- if eq .root.Values.redis.mode "internal" }}
  value: {{ printf "redis://:$(REDIS_PASSWORD)@%s:6379/0" (include "chapterhouse.redisName" .root) | quote }}
{{- else }}
  valueFrom:
    secretKeyRef:
      name: {{ include "chapterhouse.redisSecretName" .root }}
      key: {{ .component }}
{{- end }}
{{- end }}

{{/* Checks run once per render. */}}
{{- define "chapterhouse.validate" -}}
{{- if not (or .Values.auth.jwtPublicKeys .Values.auth.existingSecret .Values.auth.oidc.issuers) }}
{{- fail "set auth.oidc.issuers (OpenID Connect issuer URLs), or auth.jwtPublicKeys (PEM public keys) or auth.existingSecret for a static-key issuer: the services verify every bearer token" }}
{{- end }}
{{- if not (kindIs "slice" .Values.auth.oidc.issuers) }}
{{- fail "auth.oidc.issuers must be a list of issuer URLs" }}
{{- end }}
{{- range .Values.auth.oidc.issuers }}
{{- if or (not (kindIs "string" .)) (contains "," .) (not (hasPrefix "https://" .)) }}
{{- fail (printf "auth.oidc.issuers: %v is not an https issuer URL" .) }}
{{- end }}
{{- end }}
{{- with .Values.auth.firstAdminIdentity }}
{{- if or .issuer .subject }}
{{- if not (and .issuer .subject) }}
{{- fail "auth.firstAdminIdentity needs both issuer and subject" }}
{{- end }}
{{- if not $.Values.auth.firstAdmin }}
{{- fail "auth.firstAdminIdentity needs auth.firstAdmin, the person (people/<id>) the identity is linked to" }}
{{- end }}
{{- if not (has .issuer $.Values.auth.oidc.issuers) }}
{{- fail (printf "auth.firstAdminIdentity.issuer %v is not one of auth.oidc.issuers" .issuer) }}
{{- end }}
{{- end }}
{{- end }}
{{- if not (kindIs "bool" .Values.auth.linkVerifiedEmail) }}
{{- fail "auth.linkVerifiedEmail must be true or false" }}
{{- end }}
{{- if not (kindIs "slice" .Values.pageTokens.keys) }}
{{- fail "pageTokens.keys must be a list of base64 keys, the signing key first" }}
{{- end }}
{{- range $i, $k := .Values.pageTokens.keys }}
{{- /* 43 base64 characters carry 32 bytes; the services check the rest. */}}
{{- if not (and (kindIs "string" $k) (regexMatch "^[A-Za-z0-9+/_-]+={0,2}$" $k) (ge (len (trimSuffix "=" (trimSuffix "=" $k))) 43)) }}
{{- fail (printf "pageTokens.keys[%d] must be a base64 key of at least 32 bytes (openssl rand -base64 32)" $i) }}
{{- end }}
{{- end }}
{{- if not (kindIs "slice" .Values.serviceCalls.keys) }}
{{- fail "serviceCalls.keys must be a list of base64 keys, the signing key first" }}
{{- end }}
{{- range $i, $k := .Values.serviceCalls.keys }}
{{- if not (and (kindIs "string" $k) (regexMatch "^[A-Za-z0-9+/_-]+={0,2}$" $k) (ge (len (trimSuffix "=" (trimSuffix "=" $k))) 43)) }}
{{- fail (printf "serviceCalls.keys[%d] must be a base64 key of at least 32 bytes (openssl rand -base64 32)" $i) }}
{{- end }}
{{- end }}
{{- if not (has .Values.redis.mode (list "internal" "external")) }}
{{- fail "redis.mode must be internal or external" }}
{{- end }}
{{- if eq .Values.redis.mode "external" }}
{{- if not (or .Values.redis.external.url .Values.redis.external.urls .Values.redis.external.existingSecret) }}
{{- fail "redis.mode=external needs redis.external.url, redis.external.urls or redis.external.existingSecret" }}
{{- end }}
{{- end }}
{{- if le (int .Values.terminationGracePeriodSeconds) (add (int .Values.drainDelaySeconds) 20 | int) }}
{{- fail "terminationGracePeriodSeconds must exceed drainDelaySeconds plus the 20s stop timeout" }}
{{- end }}
{{- end }}
