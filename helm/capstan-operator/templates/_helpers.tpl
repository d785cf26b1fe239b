{{- define "capstan-operator.name" -}}capstan-operator{{- end -}}

{{- define "capstan-operator.labels" -}}
app.kubernetes.io/name: capstan-operator
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end -}}

{{- define "capstan-operator.selector" -}}
app.kubernetes.io/name: capstan-operator
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
