{{/* Chart name, truncated to the 63 characters a label value allows. */}}
{{- define "mcp-fleet.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fully qualified app name; the release name alone when it already contains the chart name. */}}
{{- define "mcp-fleet.fullname" -}}
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

{{- define "mcp-fleet.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "mcp-fleet.selectorLabels" -}}
app.kubernetes.io/name: {{ include "mcp-fleet.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "mcp-fleet.labels" -}}
helm.sh/chart: {{ include "mcp-fleet.chart" . }}
{{ include "mcp-fleet.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: mcp-fleet
{{- end }}

{{/* Labels of the server pods (selector of the Deployment, the Service and the PDB). */}}
{{- define "mcp-fleet.serverSelectorLabels" -}}
{{ include "mcp-fleet.selectorLabels" . }}
app.kubernetes.io/component: server
{{- end }}

{{- define "mcp-fleet.redisSelectorLabels" -}}
{{ include "mcp-fleet.selectorLabels" . }}
app.kubernetes.io/component: redis
{{- end }}

{{- define "mcp-fleet.redisName" -}}
{{- printf "%s-redis" (include "mcp-fleet.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "mcp-fleet.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "mcp-fleet.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "mcp-fleet.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* Replicas that run at least: replicaCount, or the autoscaler's minimum. */}}
{{- define "mcp-fleet.minReplicas" -}}
{{- if .Values.autoscaling.enabled }}{{ int .Values.autoscaling.minReplicas }}{{ else }}{{ int .Values.replicaCount }}{{ end }}
{{- end }}

{{/* "true" when the Prometheus Operator objects of a tri-state (auto/true/false) switch render. */}}
{{- define "mcp-fleet.promOperatorOn" -}}
{{- $switch := index . 0 }}{{ $root := index . 1 }}
{{- if eq (toString $switch) "true" }}true
{{- else if and (eq (toString $switch) "auto") ($root.Capabilities.APIVersions.Has "monitoring.coreos.com/v1") }}true
{{- end }}
{{- end }}

{{/* The REDIS_URL the server gets, or nothing (sentinel, cluster, or no Redis). */}}
{{- define "mcp-fleet.redisUrl" -}}
{{- $r := .Values.redis }}
{{- if eq $r.mode "bundled" }}
{{- printf "redis://%s:%d" (include "mcp-fleet.redisName" .) (int $r.bundled.port) }}
{{- else if eq $r.mode "external" }}
{{- if $r.external.url }}
{{- $r.external.url }}
{{- else if $r.external.host }}
{{- printf "%s://%s:%d" (ternary "rediss" "redis" $r.external.tls) $r.external.host (int $r.external.port) }}
{{- end }}
{{- end }}
{{- end }}

{{/* Refuses values that would render a broken deployment. */}}
{{- define "mcp-fleet.validate" -}}
{{- $v := .Values }}
{{- if and $v.postgres.enabled (not (or $v.postgres.url $v.postgres.existingSecret)) }}
{{- fail "postgres.enabled needs postgres.existingSecret (the URL with its password) or postgres.url" }}
{{- end }}
{{- if and (eq $v.redis.mode "none") (not $v.postgres.enabled) (eq $v.server.sessionMode "stateful") (or $v.autoscaling.enabled (gt (int $v.replicaCount) 1)) }}
{{- fail "redis.mode=none keeps sessions in one process: with more than one replica (or autoscaling) set redis.mode to bundled or external, or postgres.enabled, or server.sessionMode to stateless" }}
{{- end }}
{{- if eq $v.redis.mode "external" }}
{{- $e := $v.redis.external }}
{{- $ways := 0 }}
{{- if or $e.url $e.host }}{{ $ways = add1 $ways }}{{ end }}
{{- if $e.sentinels }}{{ $ways = add1 $ways }}{{ end }}
{{- if $e.clusterNodes }}{{ $ways = add1 $ways }}{{ end }}
{{- if ne (int $ways) 1 }}
{{- fail "redis.mode=external needs exactly one of redis.external.url (or host), redis.external.sentinels and redis.external.clusterNodes" }}
{{- end }}
{{- if and $e.sentinels (not $e.sentinelName) }}
{{- fail "redis.external.sentinels needs redis.external.sentinelName (the master group name)" }}
{{- end }}
{{- end }}
{{- if and $v.metrics.enabled (eq (int $v.metrics.port) (int $v.server.port)) }}
{{- fail "metrics.port must differ from server.port" }}
{{- end }}
{{- $needMs := add (mul (int $v.lifecycle.preStopSleepSeconds) 1000) (int $v.server.shutdownDelayMs) (int $v.server.drainTimeoutMs) 2000 }}
{{- if lt (mul (int $v.terminationGracePeriodSeconds) 1000) $needMs }}
{{- fail (printf "terminationGracePeriodSeconds (%d s) must cover lifecycle.preStopSleepSeconds + server.shutdownDelayMs + server.drainTimeoutMs + 2 s (%d ms) so SSE streams drain before SIGKILL" (int $v.terminationGracePeriodSeconds) $needMs) }}
{{- end }}
{{- if and $v.autoscaling.enabled (gt (int $v.autoscaling.minReplicas) (int $v.autoscaling.maxReplicas)) }}
{{- fail "autoscaling.minReplicas must not exceed autoscaling.maxReplicas" }}
{{- end }}
{{- if and $v.gateway.enabled (not $v.gateway.parentRefs) }}
{{- fail "gateway.enabled needs gateway.parentRefs (the Gateway to attach the HTTPRoute to)" }}
{{- end }}
{{- if $v.auth.enabled }}
{{- if not (and $v.auth.issuer $v.auth.resourceUrl) }}
{{- fail "auth.enabled needs auth.issuer (the authorization server's issuer identifier) and auth.resourceUrl (this server's public URL, e.g. https://mcp.example.com/mcp)" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Name and key of the Secret holding REQUEST_STATE_KEYS: yours, or the chart's. */}}
{{- define "mcp-fleet.requestStateSecretName" -}}
{{- .Values.requestState.existingSecret | default (printf "%s-request-state" (include "mcp-fleet.fullname" .) | trunc 63 | trimSuffix "-") }}
{{- end }}

{{- define "mcp-fleet.requestStateSecretKey" -}}
{{- ternary .Values.requestState.existingSecretKey "keys" (ne .Values.requestState.existingSecret "") }}
{{- end }}

{{/*
The data of the chart's request-state Secret (base64): what the release's Secret already holds
when lookup finds it (upgrades keep the key, and any key an operator added), else one new random
key. Worked out once per render, so the Secret and the Deployment's checksum agree.
*/}}
{{- define "mcp-fleet.requestStateData" -}}
{{- if not (hasKey . "mcpFleetRequestStateData") }}
{{- $existing := lookup "v1" "Secret" .Release.Namespace (include "mcp-fleet.requestStateSecretName" .) }}
{{- $data := dig "data" "keys" "" $existing }}
{{- $_ := set . "mcpFleetRequestStateData" ($data | default (randAlphaNum 64 | b64enc)) }}
{{- end }}
{{- index . "mcpFleetRequestStateData" }}
{{- end }}

{{/* AUTH_TOOL_SCOPES from a map tool -> scopes: tool=scope scope;tool2=scope. */}}
{{- define "mcp-fleet.toolScopes" -}}
{{- $entries := list }}
{{- range $tool, $scopes := . }}
{{- $entries = append $entries (printf "%s=%s" $tool (join " " $scopes)) }}
{{- end }}
{{- join ";" $entries }}
{{- end }}

{{/*
The paths the server serves its protected resource metadata (RFC 9728) at, as a JSON list: the
root well-known path, and it suffixed with the path of auth.resourceUrl (where the 401 challenge
sends clients) and with server.mcpPath.
*/}}
{{- define "mcp-fleet.wellKnownPaths" -}}
{{- $root := "/.well-known/oauth-protected-resource" }}
{{- $paths := list $root }}
{{- range (list (urlParse .Values.auth.resourceUrl).path .Values.server.mcpPath) }}
{{- $paths = append $paths (printf "%s%s" $root (trimSuffix "/" .)) }}
{{- end }}
{{- toJson (uniq $paths) }}
{{- end }}

{{/* The server container's environment: only variables the server reads (src/config.ts). */}}
{{- define "mcp-fleet.env" -}}
{{- $v := .Values }}
{{- $s := $v.server -}}
- name: POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: HOST
  value: {{ $s.host | quote }}
- name: PORT
  value: {{ int $s.port | quote }}
- name: MCP_PATH
  value: {{ $s.mcpPath | quote }}
- name: METRICS_PORT
  value: {{ ternary (int $v.metrics.port) 0 $v.metrics.enabled | quote }}
- name: REPLICA_HEADER
  value: {{ $s.replicaHeader | quote }}
- name: SESSION_MODE
  value: {{ $s.sessionMode | quote }}
- name: SESSION_TTL_SECONDS
  value: {{ int $s.sessionTtlSeconds | quote }}
- name: ALLOWED_ORIGINS
  value: {{ join "," $s.allowedOrigins | quote }}
- name: ALLOWED_HOSTS
  value: {{ join "," $s.allowedHosts | quote }}
- name: MAX_BODY_BYTES
  value: {{ int $s.maxBodyBytes | quote }}
- name: BODY_READ_TIMEOUT_MS
  value: {{ int $s.bodyReadTimeoutMs | quote }}
- name: SESSION_RECORD_MAX_BYTES
  value: {{ int $s.sessionRecordMaxBytes | quote }}
- name: MAX_SUBSCRIPTIONS_PER_SESSION
  value: {{ int $s.maxSubscriptionsPerSession | quote }}
- name: MAX_PENDING_CLIENT_REQUESTS
  value: {{ int $s.maxPendingClientRequests | quote }}
- name: MAX_SESSIONS_PER_PRINCIPAL
  value: {{ int $s.maxSessionsPerPrincipal | quote }}
- name: MAX_SESSIONS_TOTAL
  value: {{ int $s.maxSessionsTotal | quote }}
- name: NEW_SESSIONS_PER_ADDRESS_PER_SECOND
  value: {{ int $s.newSessionsPerAddressPerSecond | quote }}
- name: TRUSTED_PROXY_HOPS
  value: {{ int $s.trustedProxyHops | quote }}
- name: MAX_LISTEN_STREAMS
  value: {{ int $s.maxListenStreams | quote }}
- name: RUNTIME_CACHE_MAX_SESSIONS
  value: {{ int $s.runtimeCacheMaxSessions | quote }}
- name: RUNTIME_IDLE_SECONDS
  value: {{ int $s.runtimeIdleSeconds | quote }}
- name: SESSION_CACHE_MAX_AGE_MS
  value: {{ int $s.sessionCacheMaxAgeMs | quote }}
- name: CLIENT_REQUEST_TIMEOUT_MS
  value: {{ int $s.clientRequestTimeoutMs | quote }}
- name: GET_STREAM_MAX_MS
  value: {{ int $s.getStreamMaxMs | quote }}
- name: LISTEN_STREAM_MAX_MS
  value: {{ int $s.listenStreamMaxMs | quote }}
- name: SSE_RETRY_MS
  value: {{ int $s.sseRetryMs | quote }}
- name: SSE_KEEPALIVE_MS
  value: {{ int $s.sseKeepAliveMs | quote }}
- name: SSE_MAX_UNSENT_BYTES
  value: {{ int $s.sseMaxUnsentBytes | quote }}
- name: SSE_STALL_TIMEOUT_MS
  value: {{ int $s.sseStallTimeoutMs | quote }}
- name: EVENT_RETENTION_SECONDS
  value: {{ int $s.eventRetentionSeconds | quote }}
- name: EVENT_MAX_PER_STREAM
  value: {{ int $s.eventMaxPerStream | quote }}
- name: DRAIN_TIMEOUT_MS
  value: {{ int $s.drainTimeoutMs | quote }}
- name: SHUTDOWN_DELAY_MS
  value: {{ int $s.shutdownDelayMs | quote }}
- name: OWNER_LIVENESS_MS
  value: {{ int $s.ownerLivenessMs | quote }}
- name: MCP_WORKLOAD
  value: {{ $s.workload | quote }}
- name: STATE_TTL_SECONDS
  value: {{ int $s.stateTtlSeconds | quote }}
- name: STATE_MAX_KEYS
  value: {{ int $s.stateMaxKeys | quote }}
- name: LOG_LEVEL
  value: {{ $s.logLevel | quote }}
- name: TASK_TTL_MS
  value: {{ int $s.tasks.ttlMs | quote }}
- name: TASK_MAX_TTL_MS
  value: {{ int $s.tasks.maxTtlMs | quote }}
- name: TASK_RESULT_RETENTION_MS
  value: {{ int $s.tasks.resultRetentionMs | quote }}
- name: TASK_POLL_INTERVAL_MS
  value: {{ int $s.tasks.pollIntervalMs | quote }}
- name: TASKS_MAX_ACTIVE_PER_PRINCIPAL
  value: {{ int $s.tasks.maxActivePerPrincipal | quote }}
- name: TASKS_MAX_STORED
  value: {{ int $s.tasks.maxStored | quote }}
- name: TASKS_MAX_RUNNING_PER_REPLICA
  value: {{ int $s.tasks.maxRunningPerReplica | quote }}
- name: TASK_RESULT_MAX_BYTES
  value: {{ int $s.tasks.resultMaxBytes | quote }}
- name: TASK_MAX_ATTEMPTS
  value: {{ int $s.tasks.maxAttempts | quote }}
- name: REQUEST_STATE_KEYS
  valueFrom:
    secretKeyRef:
      name: {{ include "mcp-fleet.requestStateSecretName" . | quote }}
      key: {{ include "mcp-fleet.requestStateSecretKey" . | quote }}
- name: REQUEST_STATE_TTL_SECONDS
  value: {{ int $v.requestState.ttlSeconds | quote }}
{{- if $v.auth.enabled }}
{{- $a := $v.auth }}
- name: AUTH_ISSUER
  value: {{ $a.issuer | quote }}
- name: AUTH_RESOURCE_URL
  value: {{ $a.resourceUrl | quote }}
- name: AUTH_AUDIENCE
  value: {{ join "," $a.audiences | quote }}
- name: AUTH_JWKS_URL
  value: {{ $a.jwksUrl | quote }}
- name: AUTH_REQUIRED_SCOPES
  value: {{ join " " $a.requiredScopes | quote }}
- name: AUTH_TOOL_SCOPES
  value: {{ include "mcp-fleet.toolScopes" $a.toolScopes | quote }}
- name: AUTH_CLOCK_TOLERANCE_SECONDS
  value: {{ int $a.clockToleranceSeconds | quote }}
- name: AUTH_FETCH_TIMEOUT_MS
  value: {{ int $a.fetchTimeoutMs | quote }}
{{- end }}
{{- if ne $v.redis.mode "none" }}
{{- $url := include "mcp-fleet.redisUrl" . }}
{{- if $url }}
- name: REDIS_URL
  value: {{ $url | quote }}
{{- end }}
{{- if eq $v.redis.mode "external" }}
{{- $e := $v.redis.external }}
{{- if $e.sentinels }}
- name: REDIS_SENTINELS
  value: {{ join "," $e.sentinels | quote }}
- name: REDIS_SENTINEL_NAME
  value: {{ $e.sentinelName | quote }}
{{- end }}
{{- if $e.clusterNodes }}
- name: REDIS_CLUSTER_NODES
  value: {{ join "," $e.clusterNodes | quote }}
{{- end }}
- name: REDIS_TLS
  value: {{ or $e.tls (hasPrefix "rediss://" $e.url) | quote }}
{{- if $e.username }}
- name: REDIS_USERNAME
  value: {{ $e.username | quote }}
{{- end }}
{{- if $e.existingSecret }}
- name: REDIS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $e.existingSecret | quote }}
      key: {{ $e.existingSecretPasswordKey | quote }}
{{- end }}
{{- else }}
{{- $b := $v.redis.bundled }}
{{- if $b.existingSecret }}
- name: REDIS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $b.existingSecret | quote }}
      key: {{ $b.existingSecretPasswordKey | quote }}
{{- end }}
{{- end }}
- name: REDIS_KEY_PREFIX
  value: {{ $v.redis.keyPrefix | quote }}
- name: REDIS_COMMAND_TIMEOUT_MS
  value: {{ int $v.redis.commandTimeoutMs | quote }}
- name: REDIS_CONNECT_TIMEOUT_MS
  value: {{ int $v.redis.connectTimeoutMs | quote }}
{{- end }}
{{- if $v.postgres.enabled }}
{{- $p := $v.postgres }}
- name: DATABASE_URL
{{- if $p.existingSecret }}
  valueFrom:
    secretKeyRef:
      name: {{ $p.existingSecret | quote }}
      key: {{ $p.existingSecretUrlKey | quote }}
{{- else }}
  value: {{ $p.url | quote }}
{{- end }}
{{- if and $p.existingSecret $p.existingSecretListenUrlKey }}
- name: DATABASE_LISTEN_URL
  valueFrom:
    secretKeyRef:
      name: {{ $p.existingSecret | quote }}
      key: {{ $p.existingSecretListenUrlKey | quote }}
{{- end }}
- name: DATABASE_SCHEMA
  value: {{ $p.schema | quote }}
- name: DATABASE_POOL_SIZE
  value: {{ int $p.poolSize | quote }}
- name: DATABASE_STATEMENT_TIMEOUT_MS
  value: {{ int $p.statementTimeoutMs | quote }}
- name: DATABASE_CONNECT_TIMEOUT_MS
  value: {{ int $p.connectTimeoutMs | quote }}
{{- end }}
{{- with $v.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* An int-or-string value (a count or a percentage) rendered as YAML. */}}
{{- define "mcp-fleet.intOrString" -}}
{{- if kindIs "string" . }}{{ . | quote }}{{ else }}{{ int . }}{{ end }}
{{- end }}

{{/* The port of a host:port, URL host or URL ("" when it names none). */}}
{{- define "mcp-fleet.portOf" -}}
{{- regexFind ":[0-9]+$" . | trimPrefix ":" }}
{{- end }}

{{/* The Redis ports of redis.external, as a JSON list (a Sentinel's masters on 6379). */}}
{{- define "mcp-fleet.redisPorts" -}}
{{- $e := .Values.redis.external }}
{{- $ports := list }}
{{- if $e.url }}
{{- $ports = append $ports (include "mcp-fleet.portOf" (urlParse $e.url).host | default "6379") }}
{{- else if $e.host }}
{{- $ports = append $ports (toString (int $e.port)) }}
{{- end }}
{{- range (concat $e.sentinels $e.clusterNodes) }}
{{- $ports = append $ports (include "mcp-fleet.portOf" .) }}
{{- end }}
{{- if $e.sentinels }}
{{- $ports = append $ports "6379" }}
{{- end }}
{{- toJson (uniq $ports) }}
{{- end }}

{{/* The ports of auth.issuer and auth.jwksUrl, as a JSON list. */}}
{{- define "mcp-fleet.authPorts" -}}
{{- $ports := list }}
{{- range (compact (list .Values.auth.issuer .Values.auth.jwksUrl)) }}
{{- $url := urlParse . }}
{{- $ports = append $ports (include "mcp-fleet.portOf" $url.host | default (ternary "443" "80" (eq $url.scheme "https"))) }}
{{- end }}
{{- toJson (uniq $ports) }}
{{- end }}

{{/* NetworkPolicyPorts: the ones given (index 0) or else TCP on each derived port (index 1, JSON). */}}
{{- define "mcp-fleet.egressPorts" -}}
{{- if index . 0 }}
{{- toYaml (index . 0) }}
{{- else }}
{{- range (index . 1 | fromJsonArray) }}
- protocol: TCP
  port: {{ int . }}
{{- end }}
{{- end }}
{{- end }}
