{{/* Where the controller runs: the namespace value, else the release's. */}}
{{- define "pyvela.namespace" -}}
{{- .Values.namespace | default .Release.Namespace -}}
{{- end -}}

{{/* The labels `controller manifests` puts on its objects (no helm labels: the same objects). */}}
{{- define "pyvela.labels" -}}
app.kubernetes.io/name: pyvela-controller
app.kubernetes.io/managed-by: pyvela
{{- end -}}

{{/* Without shards and standbys: one Deployment, one replica, Recreate. */}}
{{- define "pyvela.single" -}}
{{- if and (eq (int .Values.shards) 1) (eq (int .Values.replicas) 1) -}}true{{- end -}}
{{- end -}}
