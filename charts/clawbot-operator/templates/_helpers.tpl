{{/* Names and labels shared by every template. */}}

{{/* The release's full name, at most 63 characters (a DNS label). */}}
{{- define "clawbot-operator.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "clawbot-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "clawbot-operator.labels" -}}
{{ include "clawbot-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "clawbot-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "clawbot-operator.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name: name the existing ServiceAccount the operator runs as (serviceAccount.create is false)" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "clawbot-operator.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* The same default the operator itself uses (operator/options.ts), stated explicitly. */}}
{{- define "clawbot-operator.runtimeImage" -}}
{{- default (printf "ghcr.io/clawbot/runtime:%s" .Chart.AppVersion) .Values.runtimeImage -}}
{{- end -}}

{{/* The metrics Service, also the job label Prometheus gives the operator's series. */}}
{{- define "clawbot-operator.metricsServiceName" -}}
{{- printf "%s-metrics" (include "clawbot-operator.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
