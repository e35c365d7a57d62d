{{/* The Secret with the API's certificate (tls.crt, tls.key) and its CA (ca.crt). */}}
{{- define "sidestash.apiTlsSecret" -}}
{{- default (printf "%s-api-tls" (include "sidestash.fullname" .)) .Values.controller.tls.existingSecret -}}
{{- end -}}

{{/* The Secret with the key that encrypts Secret values in the controller's database (key "key"). */}}
{{- define "sidestash.encryptionSecret" -}}
{{- default (printf "%s-encryption" (include "sidestash.fullname" .)) .Values.encryption.existingSecret -}}
{{- end -}}
