{{/* Chart name, truncated to the DNS label limit. */}}
{{- define "happening.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Release-qualified name. */}}
{{- define "happening.fullname" -}}
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

{{/* Name of one service's objects: <fullname>-<service>. Call with (dict "root" $ "service" $name). */}}
{{- define "happening.serviceName" -}}
{{- printf "%s-%s" (include "happening.fullname" .root) .service | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "happening.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels shared by every object of the release, without the identifying ones. */}}
{{- define "happening.commonLabels" -}}
helm.sh/chart: {{ include "happening.chart" . }}
app.kubernetes.io/part-of: happening
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end -}}

{{/* Labels of release-wide objects. */}}
{{- define "happening.labels" -}}
{{ include "happening.commonLabels" . }}
app.kubernetes.io/name: {{ include "happening.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Selector labels of one service. Call with (dict "root" $ "service" $name). */}}
{{- define "happening.selectorLabels" -}}
app.kubernetes.io/name: {{ include "happening.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .service }}
{{- end -}}

{{/* All labels of one service's objects. Call with (dict "root" $ "service" $name). */}}
{{- define "happening.serviceLabels" -}}
{{ include "happening.commonLabels" .root }}
{{ include "happening.selectorLabels" . }}
{{- end -}}

{{/*
Image reference of one service: its own services.<name>.image.tag, else image.tag, else the chart's
appVersion. Call with (dict "root" $ "service" $name).
*/}}
{{- define "happening.image" -}}
{{- $image := .root.Values.image -}}
{{- $tag := dig "image" "tag" "" (index .root.Values.services .service) | default $image.tag | default .root.Chart.AppVersion -}}
{{- printf "%s/%s/%s:%s" $image.registry $image.repository .service $tag -}}
{{- end -}}

{{- define "happening.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "happening.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Name of the Secret holding connection strings and API keys. */}}
{{- define "happening.secretName" -}}
{{- if .Values.secrets.existingSecret -}}
{{- .Values.secrets.existingSecret -}}
{{- else -}}
{{- printf "%s-secrets" (include "happening.fullname" .) -}}
{{- end -}}
{{- end -}}

{{/* Secret key of a service's database URL. */}}
{{- define "happening.databaseUrlKey" -}}
{{- printf "database-url-%s" . -}}
{{- end -}}

{{/*
A user name or password percent-encoded for a URL's userinfo: an @, / or : in it would end the
userinfo early. urlquery encodes a space as +, which a userinfo keeps as a plus: encode it as %20.
*/}}
{{- define "happening.userinfo" -}}
{{- . | toString | urlquery | replace "+" "%20" -}}
{{- end -}}

{{/* Database URL of a service: the in-chart PostgreSQL when enabled, the configured one otherwise. */}}
{{- define "happening.databaseUrl" -}}
{{- $pg := .root.Values.postgresql -}}
{{- if $pg.enabled -}}
{{- $password := required "postgresql.auth.password is required when postgresql.enabled" $pg.auth.password -}}
{{- printf "postgres://%s:%s@%s-postgresql:5432/%s" (include "happening.userinfo" $pg.auth.username) (include "happening.userinfo" $password) .root.Release.Name $pg.auth.database -}}
{{- else -}}
{{- required (printf "secrets.databaseUrls.%s is required: the Postgres URL of %s (or secrets.existingSecret, or postgresql.enabled on an evaluation cluster)" .service .service) (index .root.Values.secrets.databaseUrls .service) -}}
{{- end -}}
{{- end -}}

{{- define "happening.amqpUrl" -}}
{{- $mq := .Values.rabbitmq -}}
{{- if $mq.enabled -}}
{{- $password := required "rabbitmq.auth.password is required when rabbitmq.enabled" $mq.auth.password -}}
{{- printf "amqp://%s:%s@%s-rabbitmq:5672" (include "happening.userinfo" $mq.auth.username) (include "happening.userinfo" $password) .Release.Name -}}
{{- else -}}
{{- required "secrets.amqpUrl is required: the RabbitMQ URL of the shared broker user (or secrets.existingSecret, or rabbitmq.enabled on an evaluation cluster)" .Values.secrets.amqpUrl -}}
{{- end -}}
{{- end -}}

{{/*
Secret key of a service's AMQP or Redis URL (kind "amqp" or "redis"): `<kind>-url-<service>` when
the service has a user of its own (`secrets.<kind>Urls.<service>`, or listed in
`secrets.existingSecret<Kind>Urls`), else the shared `<kind>-url`. An existing Secret cannot be
read when rendering offline, hence the list rather than a look at its keys; a per-service URL the
chart would not use fails the render instead of leaving the service on the shared user.
Call with (dict "root" $ "service" $name "kind" "amqp").
*/}}
{{- define "happening.serviceUrlKey" -}}
{{- $secrets := .root.Values.secrets -}}
{{- $urls := printf "%sUrls" .kind -}}
{{- $listed := printf "existingSecret%sUrls" (title .kind) -}}
{{- $own := false -}}
{{- if $secrets.existingSecret -}}
{{- if get $secrets $urls -}}
{{- fail (printf "secrets.%s is not read with secrets.existingSecret: put each URL in that Secret as %s-url-<service> and list the service in secrets.%s" $urls .kind $listed) -}}
{{- end -}}
{{- $own = has .service (get $secrets $listed | default list) -}}
{{- else -}}
{{- if get $secrets $listed -}}
{{- fail (printf "secrets.%s names keys of secrets.existingSecret, which is not set: give the URLs in secrets.%s" $listed $urls) -}}
{{- end -}}
{{- $own = not (empty (index (get $secrets $urls | default dict) .service)) -}}
{{- end -}}
{{- ternary (printf "%s-url-%s" .kind .service) (printf "%s-url" .kind) $own -}}
{{- end -}}

{{/* The `<kind>-url-<service>` Secret entries of secrets.<kind>Urls. Call with (dict "root" $ "kind" "amqp"). */}}
{{- define "happening.serviceUrlSecretData" -}}
{{- $kind := .kind -}}
{{- range $name, $url := get .root.Values.secrets (printf "%sUrls" $kind) }}
{{- if $url }}
{{ $kind }}-url-{{ $name }}: {{ $url | b64enc | quote }}
{{- end }}
{{- end }}
{{- end -}}

{{- define "happening.redisUrl" -}}
{{- $redis := .Values.redis -}}
{{- if $redis.enabled -}}
{{- $password := required "redis.auth.password is required when redis.enabled" $redis.auth.password -}}
{{- printf "redis://:%s@%s-redis-master:6379/0" (include "happening.userinfo" $password) .Release.Name -}}
{{- else -}}
{{- required "secrets.redisUrl is required: the Redis URL of the shared Redis user (or secrets.existingSecret, or redis.enabled on an evaluation cluster)" .Values.secrets.redisUrl -}}
{{- end -}}
{{- end -}}

{{- define "happening.oidcIssuer" -}}
{{- if .Values.keycloak.enabled -}}
{{- printf "http://%s-keycloak/realms/happening" .Release.Name -}}
{{- else -}}
{{- required "oidc.issuer is required: the issuer of the tokens, e.g. https://<keycloak>/realms/happening (or keycloak.enabled on an evaluation cluster)" .Values.oidc.issuer -}}
{{- end -}}
{{- end -}}

{{/*
Checks of values across the chart's dependencies; renders nothing. The bitnami keycloak chart
brings a PostgreSQL of its own (its `postgresql.enabled` defaults to true), named
`<release>-postgresql` like the chart's in-chart PostgreSQL: with both enabled their objects would
collide. Keycloak then uses the chart's database instead (keycloak.externalDatabase).
*/}}
{{- define "happening.validateDependencies" -}}
{{- if and .Values.postgresql.enabled .Values.keycloak.enabled (dig "postgresql" "enabled" true .Values.keycloak) -}}
{{- fail (printf "keycloak.postgresql.enabled must be false with postgresql.enabled: the keycloak chart's own PostgreSQL would be named %s-postgresql, like the chart's. Point keycloak.externalDatabase at the chart's (docs/operations.md, \"Dependencies\")" .Release.Name) -}}
{{- end -}}
{{- end -}}

{{/* Path of the caBundle file in the pods (the ConfigMap's key, mounted as this one file). */}}
{{- define "happening.caBundleFile" -}}
/etc/happening/ca/ca-bundle.pem
{{- end -}}

{{/* The volume of the caBundle ConfigMap; render only when caBundle.configMap is set. */}}
{{- define "happening.caBundleVolume" -}}
- name: ca-bundle
  configMap:
    name: {{ .Values.caBundle.configMap | quote }}
    items:
      - key: {{ required "caBundle.key is required with caBundle.configMap" .Values.caBundle.key | quote }}
        path: {{ base (include "happening.caBundleFile" .) }}
{{- end -}}

{{/* Its read-only mount; render only when caBundle.configMap is set. */}}
{{- define "happening.caBundleVolumeMount" -}}
- name: ca-bundle
  mountPath: {{ dir (include "happening.caBundleFile" .) }}
  readOnly: true
{{- end -}}

{{/* Services that own a Postgres schema (everything but the gateway). */}}
{{- define "happening.usesDatabase" -}}
{{- if ne . "gateway" -}}true{{- end -}}
{{- end -}}

{{/* Services that use Redis. */}}
{{- define "happening.usesRedis" -}}
{{- if or (eq . "booking") (eq . "gateway") -}}true{{- end -}}
{{- end -}}

{{/*
The enabled services that consume domain events (those with a `<service>.events` queue in
EVENT_SUBSCRIPTIONS, packages/messaging), comma-separated: every service declares their queues,
and only theirs. A queue declared for a disabled service would fill, unconsumed and uncapped,
until RabbitMQ's memory or disk alarm blocks every publisher.
*/}}
{{- define "happening.eventConsumers" -}}
{{- $consumers := list -}}
{{- range $name, $svc := .Values.services -}}
{{- if and $svc.enabled (has $name (list "catalog" "booking" "notification")) -}}
{{- $consumers = append $consumers $name -}}
{{- end -}}
{{- end -}}
{{- join "," $consumers -}}
{{- end -}}

{{/*
Non-secret environment of one service as a YAML map. Shared by its ConfigMap and its migrations
Job (a pre-install hook runs before the ConfigMap exists). services.<name>.env is merged last and
replaces any key set here: a key given twice would be a duplicate key in the ConfigMap.
Call with (dict "root" $ "service" $name).
*/}}
{{- define "happening.config" -}}
{{- $root := .root -}}
{{- $svc := index $root.Values.services .service -}}
{{- $config := dict "HOST" "0.0.0.0" "PORT" (toString $svc.port) "LOG_LEVEL" (toString $root.Values.logLevel) -}}
{{- $_ := set $config "OIDC_ISSUER" (include "happening.oidcIssuer" $root) -}}
{{- $_ := set $config "OIDC_AUDIENCE" (toString $root.Values.oidc.audience) -}}
{{- with $root.Values.oidc.jwksUri -}}
{{- $_ := set $config "OIDC_JWKS_URI" (toString .) -}}
{{- end -}}
{{- /* Node adds these CAs to its own for every TLS connection: Postgres, AMQP, Redis, SMTP. */ -}}
{{- if $root.Values.caBundle.configMap -}}
{{- $_ := set $config "NODE_EXTRA_CA_CERTS" (include "happening.caBundleFile" $root) -}}
{{- end -}}
{{- if include "happening.usesDatabase" .service -}}
{{- /* The migrations Job migrates once per release, so the replicas do not; without it nothing
else would, so each replica migrates at start (the migrator's advisory lock applies each once). */ -}}
{{- $_ := set $config "RUN_MIGRATIONS" (ternary "false" "true" (eq (include "happening.migratedByJob" .) "true")) -}}
{{- end -}}
{{- if ne .service "gateway" -}}
{{- $_ := set $config "EVENT_CONSUMERS" (include "happening.eventConsumers" $root) -}}
{{- end -}}
{{- if eq .service "identity-org" -}}
{{- $_ := set $config "PUBLIC_APP_URL" (required "identityOrg.publicAppUrl is required: the base URL of the links in invite emails" $root.Values.identityOrg.publicAppUrl | toString) -}}
{{- end -}}
{{- if eq .service "notification" -}}
{{- $_ := set $config "MAIL_FROM" (required "notification.mailFrom is required: the sender of every email, e.g. Happening <no-reply@your-domain>" $root.Values.notification.mailFrom | toString) -}}
{{- /* Unset rather than empty: an empty URL is not a URL, and the channel stays off. */ -}}
{{- with $root.Values.notification.smsApiUrl -}}
{{- $_ := set $config "SMS_API_URL" (toString .) -}}
{{- end -}}
{{- with $root.Values.notification.pushApiUrl -}}
{{- $_ := set $config "PUSH_API_URL" (toString .) -}}
{{- end -}}
{{- end -}}
{{- if eq .service "gateway" -}}
{{- $_ := set $config "TRUSTED_PROXY_HOPS" (toString $root.Values.gateway.trustedProxyHops) -}}
{{- range $name, $upstream := $root.Values.services -}}
{{- if and $upstream.enabled (ne $name "gateway") -}}
{{- $_ := set $config (printf "%s_URL" ($name | upper | replace "-" "_")) (printf "http://%s:%v" (include "happening.serviceName" (dict "root" $root "service" $name)) $upstream.port) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- range $key, $value := ($svc.env | default dict) -}}
{{- $_ := set $config $key (toString $value) -}}
{{- end -}}
{{- /* The image's NODE_OPTIONS imports the TypeScript loader (docker/service.Dockerfile): a value
here would replace it, and no pod could load src/main.ts. */ -}}
{{- if hasKey $config "NODE_OPTIONS" -}}
{{- fail (printf "services.%s.env.NODE_OPTIONS would replace the image's NODE_OPTIONS, which loads the TypeScript loader, and no pod would start: give Node flags in services.%s.nodeArgs instead" .service .service) -}}
{{- end -}}
{{- /* The container port, probes and Service follow services.<name>.port, not the env. */ -}}
{{- if ne $config.PORT (toString $svc.port) -}}
{{- fail (printf "services.%s.env.PORT (%s) differs from services.%s.port (%v): set services.%s.port instead" .service $config.PORT .service $svc.port .service) -}}
{{- end -}}
{{- toYaml $config -}}
{{- end -}}

{{/*
"true" when the migrations Job migrates this service (migrations.enabled and
services.<name>.migrations), else empty. Call with (dict "root" $ "service" $name).
*/}}
{{- define "happening.migratedByJob" -}}
{{- $svc := index .root.Values.services .service -}}
{{- if and .root.Values.migrations.enabled $svc.enabled $svc.migrations (include "happening.usesDatabase" .service) -}}true{{- end -}}
{{- end -}}

{{/* Secret-backed environment entries of one service. Call with (dict "root" $ "service" $name "secretName" $secretName). */}}
{{- define "happening.secretEnv" -}}
{{- if include "happening.usesDatabase" .service }}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ .secretName }}
      key: {{ include "happening.databaseUrlKey" .service }}
{{- end }}
{{- if ne .service "gateway" }}
- name: AMQP_URL
  valueFrom:
    secretKeyRef:
      name: {{ .secretName }}
      key: {{ include "happening.serviceUrlKey" (dict "root" .root "service" .service "kind" "amqp") }}
{{- end }}
{{- if include "happening.usesRedis" .service }}
- name: REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ .secretName }}
      key: {{ include "happening.serviceUrlKey" (dict "root" .root "service" .service "kind" "redis") }}
{{- end }}
{{- if or (eq .service "identity-org") (eq .service "notification") }}
{{- /* identity-org seals each invite's accept link with it; notification opens it to mail it. */}}
- name: INVITE_LINK_KEY
  valueFrom:
    secretKeyRef:
      name: {{ .secretName }}
      key: invite-link-key
{{- end }}
{{- if eq .service "notification" }}
- name: SMTP_URL
  valueFrom:
    secretKeyRef:
      name: {{ .secretName }}
      key: smtp-url
- name: NOTIFICATION_SEALING_KEY
  valueFrom:
    secretKeyRef:
      name: {{ .secretName }}
      key: notification-sealing-key
{{- /* A provider URL needs its key: a missing one stops the pod instead of starting without it. */}}
- name: SMS_API_KEY
  valueFrom:
    secretKeyRef:
      name: {{ .secretName }}
      key: sms-api-key
      {{- if not .root.Values.notification.smsApiUrl }}
      optional: true
      {{- end }}
- name: PUSH_API_KEY
  valueFrom:
    secretKeyRef:
      name: {{ .secretName }}
      key: push-api-key
      {{- if not .root.Values.notification.pushApiUrl }}
      optional: true
      {{- end }}
{{- end }}
{{- end -}}

{{/* The database URL of each enabled service, base64-encoded: all the migration Jobs need. */}}
{{- define "happening.databaseSecretData" -}}
{{- range $name, $svc := .Values.services }}
{{- if and $svc.enabled (include "happening.usesDatabase" $name) }}
{{ include "happening.databaseUrlKey" $name }}: {{ include "happening.databaseUrl" (dict "root" $ "service" $name) | b64enc | quote }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Secret data (connection strings and keys), base64-encoded. */}}
{{- define "happening.secretData" -}}
{{ include "happening.databaseSecretData" . }}
amqp-url: {{ include "happening.amqpUrl" . | b64enc | quote }}
{{- include "happening.serviceUrlSecretData" (dict "root" . "kind" "amqp") }}
redis-url: {{ include "happening.redisUrl" . | b64enc | quote }}
{{- include "happening.serviceUrlSecretData" (dict "root" . "kind" "redis") }}
{{- if .Values.services.notification.enabled }}
smtp-url: {{ required "secrets.smtpUrl is required: the SMTP server notification mails through, e.g. smtps://user:password@mail.example.org:465 (or secrets.existingSecret)" .Values.secrets.smtpUrl | b64enc | quote }}
{{- else if .Values.secrets.smtpUrl }}
smtp-url: {{ .Values.secrets.smtpUrl | b64enc | quote }}
{{- end }}
notification-sealing-key: {{ include "happening.keptKey" (dict "root" . "value" "notificationSealingKey" "key" "notification-sealing-key") | b64enc | quote }}
invite-link-key: {{ include "happening.keptKey" (dict "root" . "value" "inviteLinkKey" "key" "invite-link-key") | b64enc | quote }}
{{- if .Values.notification.smsApiUrl }}
sms-api-key: {{ required "secrets.smsApiKey is required with notification.smsApiUrl" .Values.secrets.smsApiKey | b64enc | quote }}
{{- else if .Values.secrets.smsApiKey }}
sms-api-key: {{ .Values.secrets.smsApiKey | b64enc | quote }}
{{- end }}
{{- if .Values.notification.pushApiUrl }}
push-api-key: {{ required "secrets.pushApiKey is required with notification.pushApiUrl" .Values.secrets.pushApiKey | b64enc | quote }}
{{- else if .Values.secrets.pushApiKey }}
push-api-key: {{ .Values.secrets.pushApiKey | b64enc | quote }}
{{- end }}
{{- end -}}

{{/*
A key the chart keeps for the release (base64 text), e.g. the notification sealing key or the
invite-link key: the configured one (`secrets.<value>`), else the one in the Secret the chart
created before (rotating it would make what is sealed on its way unreadable), else a new random
one. The chosen key is kept in the values so that every render of this release uses the same.
Call with (dict "root" $ "value" "notificationSealingKey" "key" "notification-sealing-key").
*/}}
{{- define "happening.keptKey" -}}
{{- $secrets := .root.Values.secrets -}}
{{- if not (get $secrets .value) -}}
{{- $existing := lookup "v1" "Secret" .root.Release.Namespace (include "happening.secretName" .root) -}}
{{- $stored := dig "data" .key "" $existing -}}
{{- $_ := set $secrets .value (ternary (b64dec $stored) (randBytes 32) (ne $stored "")) -}}
{{- end -}}
{{- get $secrets .value -}}
{{- end -}}

{{/* The hardened container security context. */}}
{{- define "happening.containerSecurityContext" -}}
{{- toYaml .Values.securityContext }}
{{- end -}}
