{{- define "sidestash.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "sidestash.fullname" -}}
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

{{- define "sidestash.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "sidestash.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: sidestash
{{- end -}}

{{- define "sidestash.selectorLabels" -}}
app.kubernetes.io/name: {{ include "sidestash.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: controller
{{- end -}}

{{- define "sidestash.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "sidestash.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "sidestash.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "sidestash.authSecret" -}}
{{- default (printf "%s-auth" (include "sidestash.fullname" .)) .Values.auth.existingSecret -}}
{{- end -}}

{{- define "sidestash.agentTokenSecret" -}}
{{- printf "%s-agent-token" (include "sidestash.fullname" .) -}}
{{- end -}}

{{- define "sidestash.webhookName" -}}
{{- printf "%s-injector" (include "sidestash.fullname" .) -}}
{{- end -}}

{{/* Native sidecars: "auto" follows the cluster version (SidecarContainers is on by default from 1.29). */}}
{{- define "sidestash.nativeSidecar" -}}
{{- if eq (toString .Values.agent.nativeSidecar) "auto" -}}
{{- semverCompare ">=1.29-0" .Capabilities.KubeVersion.Version -}}
{{- else -}}
{{- toString .Values.agent.nativeSidecar -}}
{{- end -}}
{{- end -}}

{{/*
Tokens: taken from the existing Secret when there is one (upgrades keep them), else generated
once per render and memoized in .Values so every template sees the same value.
*/}}
{{- define "sidestash.token" -}}
{{- $key := .key -}}
{{- $root := .root -}}
{{- $memo := printf "__token_%s" $key -}}
{{- if not (hasKey $root.Values $memo) -}}
{{- $existing := lookup "v1" "Secret" $root.Release.Namespace (include "sidestash.authSecret" $root) -}}
{{- $value := "" -}}
{{- if and $existing $existing.data (hasKey $existing.data $key) -}}
{{- $value = index $existing.data $key | b64dec -}}
{{- else -}}
{{- $value = randAlphaNum 48 -}}
{{- end -}}
{{- $_ := set $root.Values $memo $value -}}
{{- end -}}
{{- index $root.Values $memo -}}
{{- end -}}

{{/*
The enrolment token of one agent namespace (dict "root" $ "namespace" ns): its own random
value, kept from the namespace's existing token Secret on upgrades (unless that still holds
the single shared token of chart versions before per-namespace tokens, which is replaced),
memoized in .Values so every template sees the same value.
*/}}
{{- define "sidestash.agentToken" -}}
{{- $root := .root -}}
{{- $ns := .namespace -}}
{{- $memo := printf "__agent_token_%s" $ns -}}
{{- if not (hasKey $root.Values $memo) -}}
{{- $legacy := "" -}}
{{- $auth := lookup "v1" "Secret" $root.Release.Namespace (include "sidestash.authSecret" $root) -}}
{{- if and $auth $auth.data (hasKey $auth.data "agent-bootstrap-token") -}}
{{- $legacy = index $auth.data "agent-bootstrap-token" | b64dec -}}
{{- end -}}
{{- $existing := lookup "v1" "Secret" $ns (include "sidestash.agentTokenSecret" $root) -}}
{{- $value := "" -}}
{{- if and $existing $existing.data (hasKey $existing.data "token") -}}
{{- $value = index $existing.data "token" | b64dec -}}
{{- end -}}
{{- if or (eq $value "") (eq $value $legacy) -}}
{{- $value = randAlphaNum 48 -}}
{{- end -}}
{{- $_ := set $root.Values $memo $value -}}
{{- end -}}
{{- index $root.Values $memo -}}
{{- end -}}

{{- define "sidestash.agentEnrolmentSecret" -}}
{{- printf "%s-agent-enrolment" (include "sidestash.fullname" .) -}}
{{- end -}}

{{/* The controller's SIDESTASH_AGENT_TOKENS_FILE: per agent namespace, its token's SHA-256. */}}
{{- define "sidestash.agentTokensJson" -}}
{{- $list := list -}}
{{- range $ns := .Values.agent.namespaces -}}
{{- $list = append $list (dict "id" (printf "chart-%s" $ns) "namespace" $ns "sha256" (include "sidestash.agentToken" (dict "root" $ "namespace" $ns) | sha256sum)) -}}
{{- end -}}
{{- toJson $list -}}
{{- end -}}
