{{/*
The scrape settings a ServiceMonitor endpoint and a PodMonitor endpoint share: `.root` the chart,
`.monitor` the monitor's values.
*/}}
{{- define "gadget-exporter.monitorEndpoint" -}}
{{- $root := .root }}
{{- $m := .monitor -}}
port: http
path: /metrics
scheme: {{ include "gadget-exporter.scheme" $root | lower }}
{{- with $m.interval }}
interval: {{ . }}
{{- end }}
{{- with $m.scrapeTimeout }}
scrapeTimeout: {{ . }}
{{- end }}
honorLabels: {{ $m.honorLabels }}
{{- with $m.tlsConfig }}
tlsConfig:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- if $root.Values.bearerToken.secretName }}
authorization:
  type: Bearer
  credentials:
    name: {{ $root.Values.bearerToken.secretName }}
    key: {{ $root.Values.bearerToken.key }}
{{- end }}
relabelings:
  # The node the agent runs on, for dashboards' node variable.
  - sourceLabels: [__meta_kubernetes_pod_node_name]
    targetLabel: node
  {{- with $m.relabelings }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- with $m.metricRelabelings }}
metricRelabelings:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}
