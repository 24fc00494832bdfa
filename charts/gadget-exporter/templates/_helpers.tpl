{{/*
The chart's name, or nameOverride.
*/}}
{{- define "gadget-exporter.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The full name of the release's objects: fullnameOverride, else the release name when it already
contains the chart's name, else "<release>-<chart>". 63 characters at most (DNS label).
*/}}
{{- define "gadget-exporter.fullname" -}}
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

{{- define "gadget-exporter.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
What selects the agent's pods: never changes for a release (a DaemonSet's selector is immutable).
*/}}
{{- define "gadget-exporter.selectorLabels" -}}
app.kubernetes.io/name: {{ include "gadget-exporter.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
The standard labels of every object of the chart.
*/}}
{{- define "gadget-exporter.labels" -}}
helm.sh/chart: {{ include "gadget-exporter.chart" . }}
{{ include "gadget-exporter.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/component: agent
app.kubernetes.io/part-of: gadget-exporter
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "gadget-exporter.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "gadget-exporter.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "gadget-exporter.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}
{{- end }}

{{/*
Where the agent's files are in its container. The config file is in a directory of its own: the
agent watches the directory, and a ConfigMap volume updates by swapping a symlink in it.
*/}}
{{- define "gadget-exporter.configDir" -}}/etc/gadget-exporter/config{{- end }}
{{- define "gadget-exporter.configFile" -}}{{ include "gadget-exporter.configDir" . }}/config.yaml{{- end }}
{{- define "gadget-exporter.tlsDir" -}}/etc/gadget-exporter/tls{{- end }}
{{- define "gadget-exporter.tokenDir" -}}/etc/gadget-exporter/token{{- end }}
{{- define "gadget-exporter.hostRoot" -}}/host{{- end }}

{{/*
The agent's configuration sections, each a mapping (empty when absent or written empty).
*/}}
{{- define "gadget-exporter.section" -}}
{{- $config := .root.Values.config | default dict }}
{{- $section := get $config .name }}
{{- if kindIs "map" $section }}{{ toYaml $section }}{{ else }}{}{{ end }}
{{- end }}

{{/*
The port the agent listens on: the one of config.http.listen (host:port), 9464 by default.
*/}}
{{- define "gadget-exporter.port" -}}
{{- $http := include "gadget-exporter.section" (dict "root" . "name" "http") | fromYaml }}
{{- $listen := toString (get $http "listen" | default "0.0.0.0:9464") }}
{{- regexFind "[0-9]+$" $listen | default "9464" }}
{{- end }}

{{/*
HTTPS when config.http.tls is set (the port then speaks only TLS), else HTTP.
*/}}
{{- define "gadget-exporter.scheme" -}}
{{- $http := include "gadget-exporter.section" (dict "root" . "name" "http") | fromYaml }}
{{- if get $http "tls" }}HTTPS{{ else }}HTTP{{ end }}
{{- end }}

{{/*
The gadgets config.gadgets names, or those of the agent's default configuration (a JSON list).
*/}}
{{- define "gadget-exporter.gadgetNames" -}}
{{- $config := .Values.config | default dict }}
{{- $names := list }}
{{- if get $config "gadgets" }}
{{- range $config.gadgets }}
{{- if kindIs "map" . }}{{ $names = append $names (toString (get . "gadget")) }}{{ end }}
{{- end }}
{{- else }}
{{- $names = list "trace_exec" "trace_open" }}
{{- end }}
{{- toJson $names }}
{{- end }}

{{/*
Whether a configuration value is written false (the agent's booleans default to true where the
chart asks).
*/}}
{{- define "gadget-exporter.isFalse" -}}
{{- if eq (toString .) "false" }}true{{ end }}
{{- end }}

{{/*
The capabilities the agent's container adds, each with why: a YAML mapping of capability name
(without CAP_) to a list of reasons. Every capability and reason is in docs/deployment.md.

Always: BPF, PERFMON, SYS_RESOURCE, SYS_PTRACE, DAC_READ_SEARCH.
capabilities.sysAdmin / netRaw / syslog: auto (from config), true or false.
*/}}
{{- define "gadget-exporter.capabilities" -}}
{{- $containers := include "gadget-exporter.section" (dict "root" . "name" "containers") | fromYaml }}
{{- $metrics := include "gadget-exporter.section" (dict "root" . "name" "metrics") | fromYaml }}
{{- $gadgets := include "gadget-exporter.gadgetNames" . | fromJsonArray }}
{{- $caps := dict
  "BPF" (list "load BPF programs and create their maps (bpf())")
  "PERFMON" (list "attach tracepoints and perf events, load tracing programs and BPF iterators")
  "SYS_RESOURCE" (list "raise RLIMIT_MEMLOCK for BPF maps on kernels before 5.11")
  "SYS_PTRACE" (list "read other processes' /proc/PID/ns links (which container an event comes from) and a held runtime's arguments (/proc/PID/syscall, mem)")
  "DAC_READ_SEARCH" (list "read runtime state, bundles and gadget files that root does not own")
}}
{{- $auto := dict "SYS_ADMIN" (list) "NET_RAW" (list) "SYSLOG" (list) }}
{{- if and (not (include "gadget-exporter.isFalse" (get $containers "enabled"))) (not (include "gadget-exporter.isFalse" (get $containers "runtime_hook"))) }}
{{- $_ := set $auto "SYS_ADMIN" (append $auto.SYS_ADMIN "config containers.runtime_hook: fanotify permission events on the runc/crun binaries") }}
{{- end }}
{{- if not (include "gadget-exporter.isFalse" (get $metrics "bpf_stats")) }}
{{- $_ := set $auto "SYS_ADMIN" (append $auto.SYS_ADMIN "config metrics.bpf_stats: BPF_ENABLE_STATS (program run time)") }}
{{- end }}
{{- range $g := $gadgets }}
{{- if eq $g "trace_dns" }}
{{- $_ := set $auto "SYS_ADMIN" (append $auto.SYS_ADMIN "gadget trace_dns: setns into each traced network namespace") }}
{{- $_ := set $auto "NET_RAW" (append $auto.NET_RAW "gadget trace_dns: a packet socket (AF_PACKET) per traced network namespace") }}
{{- end }}
{{- if eq $g "snapshot_socket" }}
{{- $_ := set $auto "SYS_ADMIN" (append $auto.SYS_ADMIN "gadget snapshot_socket: setns into each network namespace it lists") }}
{{- end }}
{{- if eq $g "profile_cpu" }}
{{- $_ := set $auto "SYSLOG" (append $auto.SYSLOG "gadget profile_cpu: kernel symbol addresses in /proc/kallsyms") }}
{{- end }}
{{- end }}
{{- range $cap, $key := dict "SYS_ADMIN" "sysAdmin" "NET_RAW" "netRaw" "SYSLOG" "syslog" }}
{{- $mode := toString (get $.Values.capabilities $key) }}
{{- if eq $mode "true" }}
{{- $_ := set $caps $cap (list (printf "capabilities.%s: true" $key)) }}
{{- else if and (eq $mode "auto") (get $auto $cap) }}
{{- $_ := set $caps $cap (uniq (get $auto $cap)) }}
{{- end }}
{{- end }}
{{- range .Values.capabilities.add }}
{{- $_ := set $caps (. | upper | trimPrefix "CAP_") (list "capabilities.add") }}
{{- end }}
{{- toYaml $caps }}
{{- end }}

{{/*
The pod's AppArmor profile as the annotation Kubernetes read before 1.30 (the field after).
*/}}
{{- define "gadget-exporter.appArmorAnnotation" -}}
{{- $p := .Values.appArmorProfile }}
{{- if eq $p.type "Unconfined" }}unconfined
{{- else if eq $p.type "RuntimeDefault" }}runtime/default
{{- else }}localhost/{{ $p.localhostProfile }}
{{- end }}
{{- end }}

{{- define "gadget-exporter.appArmorField" -}}
{{- semverCompare ">=1.30.0-0" .Capabilities.KubeVersion.Version }}
{{- end }}

{{/*
A host path's name under /host: /run/runc -> /host/run/runc.
*/}}
{{- define "gadget-exporter.onHost" -}}
{{- printf "%s/%s" (include "gadget-exporter.hostRoot" .root) (trimPrefix "/" .path) }}
{{- end }}
