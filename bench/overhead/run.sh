#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Whole-system overhead of tracing an open-heavy process, measured side by side in one run.
#
#   bench/overhead/run.sh [N]          (default N = 1000000; run as root)
#
# One workload, openloop.c (N open+close pairs of one path by one thread, timing only its loop),
# run once per row of the table:
#
#   untraced                    nothing attached
#   agent trace_open            `java -jar exporter/target/gadget-exporter.jar run --config <yaml>`
#                               with one trace_open instance (default ring buffer settings), events
#                               and losses read from its /metrics before and after the loop
#   agent trace_open metrics    the same with metrics defined in the config: a counter file.opens
#                               by comm and a histogram of ret (besides the implicit per-container
#                               gadget_events_total), all on the agent's /metrics
#   agent trace_open + OTLP logs   the same plus `logs: true`: one OTLP log record per event,
#                               pushed over OTLP/HTTP to a local receiver this script starts
#                               (io.gadgetexporter.bench.OtlpCountingReceiver from the bench jar)
#                               that decodes and counts them
#   agent trace_open (<v>)      the same with other ring_buffer settings or gadget (AGENT_VARIANTS)
#   bpftrace empty program      `tracepoint:syscalls:sys_enter_openat {}`: the floor
#   bpftrace count per comm     `@[comm] = count()` kept in a kernel map
#   opensnoop (libbpf-tools)    one perf-buffer event per open, printed (to a file)
#   untraced (again)            shows drift over the run
#
# Tracers that are not installed are skipped with a note; this script installs nothing.
# Environment (all optional):
#   ROUNDS=R            run the whole sequence R times; the table shows the median per row
#   AGENT_JAR=PATH      default exporter/target/gadget-exporter.jar (build: mvn -B -DskipTests package)
#   BENCH_JAR=PATH      default bench/target/benchmarks.jar: the OTLP receiver of the logs row
#   OTLP_LOGS="logs_queue_size: 65536,logs_batch_size: 2048,logs_interval: 200ms"
#                       the otlp.* keys of the logs row (','-separated YAML lines)
#   JAVA=java           JAVA_OPTS="..." extra JVM options for the agent
#   AGENT_VARIANTS="wakeup_bytes=0;size=32MiB,wakeup_bytes=4MiB;gadget=/path/to/dir"
#                       extra agent rows, ';'-separated, each a ','-separated list of ring_buffer
#                       keys and/or gadget=DIR (a directory holding program.bpf.o + gadget.yaml,
#                       e.g. a modified trace_open to compare with the built-in one)
#   SKIP="agent metrics logs bpftrace opensnoop"   rows to leave out (metrics, logs: the
#                       agent rows with configured metrics, with OTLP logs)
#   PIN_CPU=K           pin the loop to CPU K (default: not pinned)
#   LOOP_PATH=PATH      the file opened (default /tmp/gadget-exporter-openloop)
#   BPF_STATS=1         enable kernel.bpf_stats_enabled during the run and report the tracers'
#                       BPF programs' run time per open (costs a little itself; off by default)
#   OUT_DIR=DIR         where logs and results go (default bench/out/overhead-<date>)
#   LOOP_TIMEOUT=900 AGENT_START_TIMEOUT=90 TRACER_SETTLE=1 RECEIVER_QUIET_TIMEOUT=300   seconds
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)

N=${1:-1000000}
ROUNDS=${ROUNDS:-1}
AGENT_JAR=${AGENT_JAR:-$ROOT/exporter/target/gadget-exporter.jar}
BENCH_JAR=${BENCH_JAR:-$ROOT/bench/target/benchmarks.jar}
OTLP_LOGS=${OTLP_LOGS:-logs_queue_size: 65536,logs_batch_size: 2048,logs_interval: 200ms}
RECEIVER_QUIET_TIMEOUT=${RECEIVER_QUIET_TIMEOUT:-300}
JAVA=${JAVA:-java}
JAVA_OPTS=${JAVA_OPTS:-}
AGENT_VARIANTS=${AGENT_VARIANTS:-}
SKIP=" ${SKIP:-} "
PIN_CPU=${PIN_CPU:-}
LOOP_PATH=${LOOP_PATH:-/tmp/gadget-exporter-openloop}
BPF_STATS=${BPF_STATS:-0}
OUT=${OUT_DIR:-$ROOT/bench/out/overhead-$(date +%Y%m%d-%H%M%S)}
LOOP_TIMEOUT=${LOOP_TIMEOUT:-900}
AGENT_START_TIMEOUT=${AGENT_START_TIMEOUT:-90}
TRACER_SETTLE=${TRACER_SETTLE:-1}
TARGET_RATIO=1.35
# The export issue's target: the agent keeping metrics only (no logs) at most this slowdown.
METRICS_TARGET_RATIO=1.30

die() { echo "run.sh: $*" >&2; exit 1; }
note() { echo "  · $*" >&2; }

[[ $N =~ ^[1-9][0-9]*$ ]] || die "N must be a positive integer, got '$N'"
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "ROUNDS must be a positive integer"
[[ $EUID -eq 0 ]] || die "run as root: the tracers load BPF programs"
command -v gcc >/dev/null || die "gcc is needed to build openloop.c"
command -v curl >/dev/null || die "curl is needed to scrape the agent's /metrics"
command -v awk >/dev/null || die "awk is needed"
[[ -n ${EPOCHREALTIME:-} ]] || die "bash 5 or later is needed (EPOCHREALTIME)"

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
RESULTS=$OUT/results.tsv
CLK_TCK=$(getconf CLK_TCK)

# ---------------------------------------------------------------- what is here
want() { [[ $SKIP != *" $1 "* ]]; }

HAVE_AGENT=0
if want agent; then
  if [[ ! -f $AGENT_JAR ]]; then
    die "the agent jar is missing: $AGENT_JAR
  build it first:   cd $ROOT && mvn -B -DskipTests package
  (or leave the agent out: SKIP=agent $0 $N)"
  fi
  command -v "$JAVA" >/dev/null || die "no '$JAVA' on PATH (set JAVA=/path/to/java)"
  HAVE_AGENT=1
fi
HAVE_RECEIVER=0
if ((HAVE_AGENT)) && want logs; then
  if [[ ! -f $BENCH_JAR ]]; then
    die "the bench jar (the OTLP receiver of the logs row) is missing: $BENCH_JAR
  build it first:   cd $ROOT && mvn -B -DskipTests package
  (or leave the logs row out: SKIP=logs $0 $N)"
  fi
  HAVE_RECEIVER=1
fi

OPENSNOOP=${OPENSNOOP:-}
if want opensnoop && [[ -z $OPENSNOOP ]]; then
  if command -v dpkg >/dev/null && dpkg -s libbpf-tools >/dev/null 2>&1; then
    OPENSNOOP=$(dpkg -L libbpf-tools | grep -E '/s?bin/opensnoop$' | head -n1 || true)
  fi
  [[ -n $OPENSNOOP ]] || OPENSNOOP=$(command -v opensnoop || true)
fi
BPFTRACE=$(command -v bpftrace || true)
want bpftrace || BPFTRACE=
HAVE_BPFTOOL=0
command -v bpftool >/dev/null && HAVE_BPFTOOL=1
if [[ $BPF_STATS == 1 ]]; then
  ((HAVE_BPFTOOL)) && command -v jq >/dev/null || die "BPF_STATS=1 needs bpftool and jq"
fi

# ---------------------------------------------------------------- cleanup
BG_PIDS=()
OLD_BPF_STATS=
cleanup() {
  local pid
  for pid in "${BG_PIDS[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
    fi
  done
  sleep 0.2
  for pid in "${BG_PIDS[@]}"; do
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  done
  if [[ -n $OLD_BPF_STATS ]]; then
    sysctl -q -w kernel.bpf_stats_enabled="$OLD_BPF_STATS" || true
  fi
}
trap cleanup EXIT
trap 'echo "run.sh: interrupted" >&2; exit 130' INT TERM
forget_pid() { # $1: a pid that has ended
  local keep=() p
  for p in "${BG_PIDS[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
  BG_PIDS=("${keep[@]}")
}
stop_pid() { # $1 pid, $2 signal, $3 seconds to wait before SIGKILL
  local pid=$1 sig=$2 deadline=$((SECONDS + $3))
  kill -"$sig" "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    note "pid $pid did not stop on SIG$sig within $3 s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
  forget_pid "$pid"
}

# ---------------------------------------------------------------- helpers
now() { echo "$EPOCHREALTIME"; }  # seconds.micros, no fork

cpu_ticks() { # utime+stime of a process (all its threads), or one thread with $2 = tid
  local f=/proc/$1/stat line rest
  [[ -n ${2:-} ]] && f=/proc/$1/task/$2/stat
  read -r line <"$f" 2>/dev/null || { echo 0; return; }
  rest=${line##*) }
  set -- $rest
  echo $((${12} + ${13}))
}

thread_id() { # $1 pid, $2 thread name: the tid, or nothing
  local t c
  for t in /proc/"$1"/task/*; do
    read -r c <"$t/comm" 2>/dev/null || continue
    [[ $c == "$2" ]] && { echo "${t##*/}"; return; }
  done
}

bpf_prog_ids() { # ids of every loaded BPF program, one a line
  ((HAVE_BPFTOOL)) || return 0
  bpftool prog list 2>/dev/null | awk -F: '/^[0-9]+:/ {print $1}' | sort -n
}

bpf_run_ns() { # $@: prog ids → "run_time_ns run_cnt" summed (needs BPF_STATS=1)
  [[ $BPF_STATS == 1 && $# -gt 0 ]] || { echo "0 0"; return; }
  local ids
  ids=$(printf '%s,' "$@")
  bpftool prog list -j 2>/dev/null |
    jq -r --argjson ids "[${ids%,}]" \
      '[.[] | select(.id as $i | $ids | index($i))] |
       "\(map(.run_time_ns // 0) | add // 0) \(map(.run_cnt // 0) | add // 0)"'
}

# The workload: built once, started in "wait" mode (it prints "ready <pid>" and blocks until
# SIGUSR1) so every tracer attaches to an existing process and the loop's start-up opens are
# never in a window.
# Its comm, "ge-openloop", is what the bpftrace row's per-comm map is read for.
OPENLOOP=$OUT/ge-openloop
gcc -O2 -Wall -Wextra -o "$OPENLOOP" "$HERE/openloop.c" || die "building openloop.c failed"

LOOP_PID=
start_loop() { # $1 log file
  local log=$1 args=(-w) deadline=$((SECONDS + 10))
  [[ -n $PIN_CPU ]] && args+=(-c "$PIN_CPU")
  "$OPENLOOP" "${args[@]}" "$N" "$LOOP_PATH" >"$log" 2>&1 &
  LOOP_PID=$!
  BG_PIDS+=("$LOOP_PID")
  until grep -q '^ready ' "$log" 2>/dev/null; do
    kill -0 "$LOOP_PID" 2>/dev/null || die "openloop ended before it was ready: $(cat "$log")"
    ((SECONDS < deadline)) || die "openloop not ready within 10 s"
    sleep 0.05
  done
}

LOOP_SECS=
run_loop() { # $1 log: signals the waiting loop, waits for it, sets LOOP_SECS (not in a subshell:
  # only the shell that started the loop can wait for it)
  local log=$1 rc=0 watchdog
  LOOP_SECS=-
  # One watchdog started before the loop, so nothing forks during the measurement.
  (
    exec >/dev/null 2>&1
    trap 'kill "$s" 2>/dev/null; exit 0' TERM
    sleep "$LOOP_TIMEOUT" &
    s=$!
    wait "$s" && kill -TERM "$LOOP_PID"
  ) &
  watchdog=$!
  kill -USR1 "$LOOP_PID"
  wait "$LOOP_PID" || rc=$?
  kill -TERM "$watchdog" 2>/dev/null || true
  wait "$watchdog" 2>/dev/null || true
  forget_pid "$LOOP_PID"
  if ((rc != 0)); then
    note "openloop failed (exit $rc; ${LOOP_TIMEOUT}s timeout?): $(tr '\n' ' ' <"$log")"
    return 1
  fi
  LOOP_SECS=$(awk '/^elapsed_ns/ {printf "%.6f", $2 / 1e9}' "$log")
}

record() { # round label seconds expected delivered background lost tracer_cpu_s bpf_ns_per_open note
  # [events_per_s received dropped failed records_per_s export_note]: the agent rows; "-" if absent
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" \
    "$5" "$6" "$7" "$8" "$9" "${10}" "${11:--}" "${12:--}" "${13:--}" "${14:--}" "${15:--}" \
    "${16:--}" >>"$RESULTS"
}

# ---------------------------------------------------------------- rows
row_untraced() { # round label
  local log=$OUT/r$1-${2// /_}.loop secs
  start_loop "$log"
  run_loop "$log" || { record "$1" "$2" - "$N" - - - - - "loop failed"; return; }
  secs=$LOOP_SECS
  record "$1" "$2" "$secs" "$N" - - - - - ""
  echo "  $2: $secs s" >&2
}

# Waits until BPF programs that were not in $1 (a list of ids) are loaded, then TRACER_SETTLE
# seconds for the attach that follows the load. Prints the new ids.
await_new_progs() { # $1 ids before, $2 pid of the tracer, $3 seconds
  local before=$1 pid=$2 deadline=$((SECONDS + $3))
  if ((!HAVE_BPFTOOL)); then
    sleep $((TRACER_SETTLE + 2))
    return 0
  fi
  until comm -13 <(echo "$before") <(bpf_prog_ids) | grep -q .; do
    kill -0 "$pid" 2>/dev/null || return 1
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
  sleep "$TRACER_SETTLE"
  comm -13 <(echo "$before") <(bpf_prog_ids) | grep . || true
}

ticks_to_s() { awk -v t="$1" -v h="$CLK_TCK" 'BEGIN {printf "%.2f", t / h}'; }

bpf_ns_per_open() { # $1, $2: "run_time_ns run_cnt" before and after the loop
  [[ $BPF_STATS == 1 ]] || { echo -; return; }
  awk -v a="$1" -v b="$2" -v n="$N" 'BEGIN {split(a, x, " "); split(b, y, " "); printf "%.0f", (y[1] - x[1]) / n}'
}

lost_reported() { # files: the sum of "Lost N events" messages (perf buffer overflows) in them
  awk '/[Ll]ost [0-9]+ events/ {for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+$/) {s += $i; break}}
       END {print s + 0}' "$@"
}

# A standalone tracer around one loop: started once the loop waits, given time to load and
# attach, stopped with SIGINT after the loop (and $4 seconds more to print what it still holds).
# Sets TRACER_SECS, TRACER_CPU and TRACER_BPF_NS; its output is in $OUT/$3.out and .err.
TRACER_SECS= TRACER_CPU= TRACER_BPF_NS=
run_tracer() { # round label tag linger-seconds command... ("{pid}" in it becomes the loop's pid)
  local label=$2 tag=$3 linger=$4 log=$OUT/$3.loop before ids pid c0 c1 b0 b1 arg cmd=()
  shift 4
  before=$(bpf_prog_ids)
  start_loop "$log"
  for arg in "$@"; do cmd+=("${arg//\{pid\}/$LOOP_PID}"); done
  "${cmd[@]}" >"$OUT/$tag.out" 2>"$OUT/$tag.err" &
  pid=$!
  BG_PIDS+=("$pid")
  if ! ids=$(await_new_progs "$before" "$pid" 60); then
    note "$label: no BPF program loaded by '${cmd[*]}': $(tail -n3 "$OUT/$tag.err")"
    stop_pid "$pid" INT 10
    stop_pid "$LOOP_PID" KILL 1
    return 1
  fi
  b0=$(bpf_run_ns $ids)
  c0=$(cpu_ticks "$pid")
  run_loop "$log" || true
  TRACER_SECS=$LOOP_SECS
  sleep "$linger"
  c1=$(cpu_ticks "$pid")
  b1=$(bpf_run_ns $ids)
  stop_pid "$pid" INT 30
  TRACER_CPU=$(ticks_to_s $((c1 - c0)))
  TRACER_BPF_NS=$(bpf_ns_per_open "$b0" "$b1")
}

row_bpftrace() { # round label program
  local tag=r$1-bpftrace-${2##* } delivered=- lost=-
  if ! run_tracer "$1" "$2" "$tag" 0 "$BPFTRACE" -e "$3"; then
    record "$1" "$2" - "$N" - - - - - "bpftrace failed to start"
    return
  fi
  if [[ $3 == *count* ]]; then
    delivered=$(awk -F': ' '/^@\[ge-openloop\]/ {print $2}' "$OUT/$tag.out")
    delivered=${delivered:-0}
    lost=$(lost_reported "$OUT/$tag.out" "$OUT/$tag.err")
  fi
  record "$1" "$2" "$TRACER_SECS" "$N" "$delivered" - "$lost" "$TRACER_CPU" "$TRACER_BPF_NS" ""
  echo "  $2: $TRACER_SECS s, counted $delivered" >&2
}

row_opensnoop() { # round label
  local tag=r$1-opensnoop delivered lost
  # -p: only the loop's process is traced, in the kernel, so every line is one of its opens.
  # Output to a file (fully buffered, as to /dev/null) so the lines can be counted; a second
  # after the loop for what the perf buffer still holds.
  if ! run_tracer "$1" "$2" "$tag" 1 "$OPENSNOOP" -p "{pid}"; then
    record "$1" "$2" - "$N" - - - - - "opensnoop failed to start"
    return
  fi
  delivered=$(awk 'NR > 1 && $1 ~ /^[0-9]+$/ {n++} END {print n + 0}' "$OUT/$tag.out")
  # libbpf-tools print "Lost N events on CPU #k!" on stderr.
  lost=$(lost_reported "$OUT/$tag.err")
  record "$1" "$2" "$TRACER_SECS" "$N" "$delivered" - "$lost" "$TRACER_CPU" "$TRACER_BPF_NS" \
    "-p <loop pid>"
  echo "  $2: $TRACER_SECS s, printed $delivered, lost $lost" >&2
}

# --- the agent
metric() { # $1 scrape file, $2 metric name, $3 label matchers ('k="v"', ';'-separated; default
  # gadget_instance="open"): the SUM of every matching series (gadget_events_total has one per
  # container), or nothing when no series matches
  awk -v m="$2" -v sel="${3:-gadget_instance=\"open\"}" '
    BEGIN {n = split(sel, want, ";")}
    index($0, m "{") == 1 {
      for (i = 1; i <= n; i++) if (!index($0, want[i])) next
      s += $NF; found = 1
    }
    END {if (found) printf "%.0f\n", s}' "$1"
}

metric0() { # as metric, 0 when no series matches
  local v
  v=$(metric "$@")
  echo "${v:-0}"
}

scrape() { # $1 port, $2 file: GET /metrics into the file
  curl -fsS --max-time 10 -o "$2" "http://127.0.0.1:$1/metrics"
}

AGENT_PID=
AGENT_PORT=
start_agent() { # $1 config, $2 tag
  local cfg=$1 err=$OUT/$2.agent.err deadline=$((SECONDS + AGENT_START_TIMEOUT)) code
  # shellcheck disable=SC2086
  "$JAVA" $JAVA_OPTS -jar "$AGENT_JAR" run --config "$cfg" >"$OUT/$2.agent.out" 2>"$err" &
  AGENT_PID=$!
  BG_PIDS+=("$AGENT_PID")
  AGENT_PORT=
  while [[ -z $AGENT_PORT ]]; do
    AGENT_PORT=$(sed -nE 's#.*metrics at http://[^ ]+:([0-9]+)/metrics.*#\1#p' "$err" | head -n1)
    [[ -n $AGENT_PORT ]] && break
    if ! kill -0 "$AGENT_PID" 2>/dev/null; then
      note "the agent exited during start-up; its log ($err):"
      sed 's/^/      /' "$err" | tail -n 20 >&2
      forget_pid "$AGENT_PID"
      return 1
    fi
    if ((SECONDS >= deadline)); then
      note "no 'metrics at http://HOST:PORT/metrics' line from the agent within ${AGENT_START_TIMEOUT}s ($err)"
      return 1
    fi
    sleep 0.2
  done
  until code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$AGENT_PORT/readyz") &&
    [[ $code == 200 ]]; do
    if ((SECONDS >= deadline)) || ! kill -0 "$AGENT_PID" 2>/dev/null; then
      note "the agent's /readyz is not 200 (last: ${code:-none}) within ${AGENT_START_TIMEOUT}s ($err)"
      return 1
    fi
    sleep 0.2
  done
}

agent_config() { # $1 file, $2 settings "k=v,k=v" (may be empty): ring_buffer keys, and gadget=;
  # $3 mode: "" (the implicit event count only), metrics (+ metrics defined here), logs (+ metrics
  # and one OTLP log record per event, to the receiver on port $4)
  local gadget=trace_open kv ring=() mode=${3:-} port=${4:-}
  IFS=, read -ra kvs <<<"$2"
  for kv in "${kvs[@]}"; do
    case ${kv%%=*} in
      gadget) gadget=${kv#*=} ;;
      *) ring+=("      ${kv%%=*}: ${kv#*=}") ;;
    esac
  done
  {
    echo "# written by bench/overhead/run.sh"
    echo "http:"
    echo "  listen: 127.0.0.1:0"
    if [[ $mode == logs ]]; then
      echo "otlp:"
      echo "  endpoint: http://127.0.0.1:$port"
      tr ',' '\n' <<<"$OTLP_LOGS" | sed 's/^ */  /'
    fi
    echo "gadgets:"
    echo "  - name: open"
    echo "    gadget: $gadget"
    if ((${#ring[@]})); then
      echo "    ring_buffer:"
      printf '%s\n' "${ring[@]}"
    fi
    if [[ $mode == logs ]]; then
      echo "    logs: true"
    fi
    if [[ $mode == metrics || $mode == logs ]]; then
      # Besides the implicit gadget_events_total (per container): a counter labelled by a string
      # field (a series key built per event) and a histogram of a numeric field.
      echo "    metrics:"
      echo "      - name: file.opens"
      echo "        description: Files opened, by command."
      echo "        labels: [comm]"
      echo "      - name: file.open.result"
      echo "        type: histogram"
      echo "        description: The returned descriptor, or -errno."
      echo "        value: ret"
      echo "        buckets: [-2, 0, 2, 4, 8, 16, 64, 256, 1024]"
    fi
  } >"$1"
}

# --- the OTLP receiver of the logs row (a JVM of its own on this machine: its CPU is reported)
RECV_PID=
RECV_PORT=
start_receiver() { # $1 tag
  local out=$OUT/$1.receiver.out deadline=$((SECONDS + 60))
  "$JAVA" -cp "$BENCH_JAR" io.gadgetexporter.bench.OtlpCountingReceiver 0 >"$out" 2>"$OUT/$1.receiver.err" &
  RECV_PID=$!
  BG_PIDS+=("$RECV_PID")
  RECV_PORT=
  until [[ -n $RECV_PORT ]]; do
    RECV_PORT=$(sed -nE 's#^listening on http://127\.0\.0\.1:([0-9]+).*#\1#p' "$out" | head -n1)
    [[ -n $RECV_PORT ]] && break
    if ! kill -0 "$RECV_PID" 2>/dev/null || ((SECONDS >= deadline)); then
      note "the OTLP receiver did not start ($OUT/$1.receiver.err): $(tail -n3 "$OUT/$1.receiver.err")"
      return 1
    fi
    sleep 0.1
  done
}

receiver_counts() { # $1 file: GET /count into it
  curl -fsS --max-time 10 -o "$1" "http://127.0.0.1:$RECV_PORT/count"
}

count_field() { # $1 counts file, $2 name
  awk -v k="$2" '$1 == k {print $2}' "$1"
}

# Waits for the end of the loop's burst of log records at the receiver: until the count rises by
# less than $2 records (the background: other processes' opens, this script's own curls, also
# exported) over one second, polled every 0.25 s, or RECEIVER_QUIET_TIMEOUT passes. Sets
# BURST_END (epoch seconds: the first poll of the quiet second) and BURST_RECORDS (the count then).
BURST_END= BURST_RECORDS=
await_receiver_quiet() { # $1 counts file, $2 records per second that count as quiet
  local deadline=$((SECONDS + RECEIVER_QUIET_TIMEOUT)) t=() c=() i=0 cur
  while ((SECONDS < deadline)); do
    receiver_counts "$1" || return 1
    cur=$(count_field "$1" records)
    t+=("$(now)")
    c+=("$cur")
    if ((i >= 4)) && ((cur - c[i - 4] < $2)); then
      BURST_END=${t[i - 4]}
      BURST_RECORDS=${c[i - 4]}
      return 0
    fi
    ((++i))
    sleep 0.25
  done
  note "the receiver's count still rose by more than $2/s after ${RECEIVER_QUIET_TIMEOUT}s"
  BURST_END=${t[-1]}
  BURST_RECORDS=${c[-1]}
}

drain_interval_s() { # from "k=v,..." settings: drain_interval in seconds (default 0.1)
  local d
  d=$(tr ',' '\n' <<<"$1" | sed -n 's/^drain_interval=//p')
  case $d in
    "") echo 0.1 ;;
    *ms) awk -v v="${d%ms}" 'BEGIN {print v / 1000}' ;;
    *s) echo "${d%s}" ;;
    *m) echo $((${d%m} * 60)) ;;
    *) echo 1 ;;
  esac
}

IDLE_SECONDS=
row_agent() { # round label ring-settings [mode: "" | metrics | logs]
  local r=$1 label=$2 ring=$3 mode=${4:-} tag=r$1-agent${4:+-$4}${3:+-${3//[^a-zA-Z0-9]/_}}
  local cfg=$OUT/$tag.yaml log=$OUT/$tag.loop before ids s0=$OUT/$tag.0.prom s1=$OUT/$tag.1.prom
  local s2=$OUT/$tag.2.prom t0 t1 t3 tl secs c0 c1 d0 d1 x0 x1 q0 q1 tid xid b0 b1 settle
  local e0 e1 e2 l1 l2 m1 m2 malformed delivered background lost evps cpu
  local k1=$OUT/$tag.1.count k2=$OUT/$tag.2.count received=- dropped=- failed=- recps=- xnote=-
  RECV_PID=
  if [[ $mode == logs ]] && ! start_receiver "$tag"; then
    [[ -n $RECV_PID ]] && stop_pid "$RECV_PID" TERM 10
    record "$r" "$label" - "$N" - - - - - "OTLP receiver failed to start"
    return
  fi
  agent_config "$cfg" "$ring" "$mode" "$RECV_PORT"
  before=$(bpf_prog_ids)
  if ! start_agent "$cfg" "$tag"; then
    [[ -n $AGENT_PID ]] && stop_pid "$AGENT_PID" TERM 20
    [[ -n $RECV_PID ]] && stop_pid "$RECV_PID" TERM 10
    record "$r" "$label" - "$N" - - - - - "agent failed to start (see $tag.agent.err)"
    return
  fi
  ids=$(comm -13 <(echo "$before") <(bpf_prog_ids) | grep . || true)
  tid=$(thread_id "$AGENT_PID" drain-open || true)
  xid=$(thread_id "$AGENT_PID" otlp-logs || true)
  start_loop "$log"
  # Background: what else on the machine opens files, over an idle window as long as the loop.
  scrape "$AGENT_PORT" "$s0"
  t0=$(now)
  sleep "$IDLE_SECONDS"
  scrape "$AGENT_PORT" "$s1"
  t1=$(now)
  [[ -n $RECV_PID ]] && receiver_counts "$k1"
  b0=$(bpf_run_ns $ids)
  c0=$(cpu_ticks "$AGENT_PID")
  d0=$([[ -n $tid ]] && cpu_ticks "$AGENT_PID" "$tid" || echo 0)
  x0=$([[ -n $xid ]] && cpu_ticks "$AGENT_PID" "$xid" || echo 0)
  q0=$([[ -n $RECV_PID ]] && cpu_ticks "$RECV_PID" || echo 0)
  tl=$(now)
  run_loop "$log" || true
  secs=$LOOP_SECS
  b1=$(bpf_run_ns $ids)
  # What is still in the ring (below the wake-up threshold) goes out at the next drain tick.
  settle=$(awk -v d="$(drain_interval_s "$ring")" 'BEGIN {printf "%.3f", 3 * d + 0.5}')
  sleep "$settle"
  # Log records still queued in the agent go out in batches: wait for the receiver to stop counting.
  if [[ -n $RECV_PID ]]; then
    # quiet: below 3x the idle window's event rate, and at least 2000 records/s
    await_receiver_quiet "$OUT/$tag.burst.count" "$(awk -v a="$(metric0 "$s0" gadget_events_total)" \
      -v b="$(metric0 "$s1" gadget_events_total)" -v t="$IDLE_SECONDS" 'BEGIN {q = 3 * (b - a) / t; printf "%.0f", q < 2000 ? 2000 : q}')"
  fi
  c1=$(cpu_ticks "$AGENT_PID")
  d1=$([[ -n $tid ]] && cpu_ticks "$AGENT_PID" "$tid" || echo 0)
  x1=$([[ -n $xid ]] && cpu_ticks "$AGENT_PID" "$xid" || echo 0)
  q1=$([[ -n $RECV_PID ]] && cpu_ticks "$RECV_PID" || echo 0)
  scrape "$AGENT_PORT" "$s2"
  t3=$(now)
  # The receiver's count at the same moment as the agent's last scrape: the two compare.
  [[ -n $RECV_PID ]] && receiver_counts "$k2"
  stop_pid "$AGENT_PID" TERM 30
  [[ -n $RECV_PID ]] && stop_pid "$RECV_PID" TERM 10
  e0=$(metric "$s0" gadget_events_total)
  e1=$(metric "$s1" gadget_events_total)
  e2=$(metric "$s2" gadget_events_total)
  l1=$(metric "$s1" gadget_events_lost_total)
  l2=$(metric "$s2" gadget_events_lost_total)
  if [[ -z $e0 || -z $e1 || -z $e2 ]]; then
    note "$label: no gadget_events_total{gadget_instance=\"open\"} in /metrics ($s2)"
    record "$r" "$label" "$secs" "$N" - - - - - "metric missing"
    return
  fi
  delivered=$((e2 - e1))
  lost=$((${l2:-0} - ${l1:-0}))
  m1=$(metric "$s1" gadget_events_malformed_total)
  m2=$(metric "$s2" gadget_events_malformed_total)
  malformed=$((${m2:-0} - ${m1:-0}))
  background=$(awk -v a="$e0" -v b="$e1" -v t0="$t0" -v t1="$t1" -v t3="$t3" \
    'BEGIN {printf "%.0f", (b - a) / (t1 - t0) * (t3 - t1)}')
  evps=$(awk -v e="$delivered" -v s="$secs" 'BEGIN {if (s > 0) printf "%.0f", e / s; else print "-"}')
  if [[ $mode == metrics || $mode == logs ]]; then
    # The configured metrics are there: file.opens of the loop's comm counted every open.
    local fo
    fo=$(metric0 "$s2" file_opens_total 'gadget_instance="open";process_executable_name="ge-openloop"')
    xnote="file_opens_total{ge-openloop}=$fo"
  fi
  if [[ $mode == logs ]]; then
    local r1 r2 ok1 ok2
    r1=$(count_field "$k1" records)
    r2=$(count_field "$k2" records)
    received=$((r2 - r1))
    ok1=$(metric0 "$s1" gadget_export_records_total 'signal="logs";outcome="success"')
    ok2=$(metric0 "$s2" gadget_export_records_total 'signal="logs";outcome="success"')
    dropped=$(( $(metric0 "$s2" gadget_export_dropped_total 'signal="logs";reason="queue_full"') -
      $(metric0 "$s1" gadget_export_dropped_total 'signal="logs";reason="queue_full"') ))
    failed=$(( $(metric0 "$s2" gadget_export_records_total 'signal="logs";outcome="failure"') -
      $(metric0 "$s1" gadget_export_records_total 'signal="logs";outcome="failure"') ))
    # Sustained: records that arrived / time from the loop's start to the end of the burst.
    recps=$(awk -v n="$((BURST_RECORDS - r1))" -v a="$tl" -v z="$BURST_END" 'BEGIN {d = z - a; if (d > 0) printf "%.0f", n / d; else print "-"}')
    xnote="$xnote; agent counted $((ok2 - ok1)) exported; burst over $(awk -v a="$tl" -v z="$BURST_END" 'BEGIN {printf "%.2f", z - a}') s after the loop's start; agent CPU outside the drain thread $(ticks_to_s $((c1 - c0 - d1 + d0))) s (of it otlp-logs $(ticks_to_s $((x1 - x0))) s; the OTLP sender's threads, GC and JIT the rest); receiver CPU $(ticks_to_s $((q1 - q0))) s; $(count_field "$k2" log_requests) requests, $(count_field "$k2" bad_requests) bad"
  fi
  cpu="$(ticks_to_s $((c1 - c0))) (drain $(ticks_to_s $((d1 - d0))))"
  record "$r" "$label" "$secs" "$N" "$delivered" "$background" "$lost" "$cpu" \
    "$(bpf_ns_per_open "$b0" "$b1")" "${ring:-defaults}$( ((malformed == 0)) || echo "; $malformed malformed")" \
    "$evps" "$received" "$dropped" "$failed" "$recps" "$xnote"
  echo "  $label: $secs s, delivered $delivered (background ~$background), lost $lost, $evps events/s$(
    [[ $mode == logs ]] && echo ", log records received $received, dropped $dropped, failed $failed, $recps records/s")" >&2
}

# ---------------------------------------------------------------- the run
if [[ $BPF_STATS == 1 ]]; then
  OLD_BPF_STATS=$(sysctl -n kernel.bpf_stats_enabled)
  sysctl -q -w kernel.bpf_stats_enabled=1
fi

# Other work on the machine skews every row (2 CPUs): say so up front.
cpu_idle_pct() { # % of CPU time idle over one second
  local a b
  read -ra a </proc/stat
  sleep 1
  read -ra b </proc/stat
  awk -v a="${a[*]}" -v b="${b[*]}" 'BEGIN {
    n = split(a, x, " "); split(b, y, " "); t = 0
    for (i = 2; i <= n; i++) t += y[i] - x[i]
    printf "%.0f", t ? 100 * ((y[5] + y[6]) - (x[5] + x[6])) / t : 100 }'
}
IDLE_PCT=$(cpu_idle_pct)
if ((IDLE_PCT < 90)); then
  note "the machine is busy before the run (CPU idle ${IDLE_PCT}%): the figures will be noisy; busiest:"
  ps -eo pid,pcpu,comm --sort=-pcpu | sed -n '2,4p' | sed 's/^/      /' >&2
fi
OTHER_PROGS=
if ((HAVE_BPFTOOL)); then
  OTHER_PROGS=$(bpftool prog list 2>/dev/null |
    awk '/^[0-9]+: (tracepoint|raw_tracepoint|tracing|kprobe|perf_event) / {print $4}' | sort | uniq -c |
    awk '{printf "%s%s%s", sep, $2, ($1 > 1 ? " x" $1 : ""); sep = ", "}')
  if [[ -n $OTHER_PROGS ]]; then
    note "BPF tracing programs are already loaded ($OTHER_PROGS): if they hook syscalls they slow"
    note "every row, the untraced ones included; stop other tracers for clean figures"
  fi
fi

printf 'round\twhat\tseconds\texpected\tdelivered\tbackground\tlost\ttracer_cpu_s\tbpf_ns_per_open\tnote\tevents_per_s\tlog_records_received\tlog_records_dropped_queue_full\tlog_records_failed\tlog_records_per_s\texport_note\n' >"$RESULTS"
{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "host: $(uname -srm), $(nproc) CPUs, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg); CPU idle over 1 s before the run: ${IDLE_PCT}%"
  echo "tracing BPF programs loaded before the run: ${OTHER_PROGS:-none}"
  echo "N=$N rounds=$ROUNDS pin_cpu=${PIN_CPU:-none} bpf_stats=$BPF_STATS"
  echo "agent: $([[ $HAVE_AGENT == 1 ]] && echo "$AGENT_JAR" || echo skipped)"
  echo "OTLP logs row: $([[ $HAVE_RECEIVER == 1 ]] && echo "receiver from $BENCH_JAR; otlp: $OTLP_LOGS" || echo skipped)"
  echo "opensnoop: ${OPENSNOOP:-not installed}"
  echo "bpftrace: $([[ -n $BPFTRACE ]] && "$BPFTRACE" --version 2>&1 | head -n1 || echo not installed)"
} | tee "$OUT/env.txt" >&2

for ((round = 1; round <= ROUNDS; round++)); do
  echo "round $round/$ROUNDS" >&2
  row_untraced "$round" "untraced"
  if [[ -z $IDLE_SECONDS ]]; then
    IDLE_SECONDS=$(awk -F'\t' 'NR > 1 && $3 != "-" {printf "%.1f", $3 < 1 ? 1 : $3; exit}' "$RESULTS")
    IDLE_SECONDS=${IDLE_SECONDS:-2}
  fi
  if ((HAVE_AGENT)); then
    row_agent "$round" "agent trace_open" ""
    want metrics && row_agent "$round" "agent trace_open metrics" "" metrics
    ((HAVE_RECEIVER)) && row_agent "$round" "agent trace_open + OTLP logs" "" logs
    if [[ -n $AGENT_VARIANTS ]]; then
      IFS=';' read -ra variants <<<"$AGENT_VARIANTS"
      for v in "${variants[@]}"; do
        row_agent "$round" "agent trace_open ($v)" "$v"
      done
    fi
  fi
  if [[ -n $BPFTRACE ]]; then
    row_bpftrace "$round" "bpftrace empty program" 'tracepoint:syscalls:sys_enter_openat {}'
    row_bpftrace "$round" "bpftrace count per comm" 'tracepoint:syscalls:sys_enter_openat { @[comm] = count(); }'
  else
    want bpftrace && note "bpftrace is not installed: its rows are skipped"
  fi
  if [[ -n $OPENSNOOP ]]; then
    row_opensnoop "$round" "opensnoop (libbpf-tools)"
  else
    want opensnoop && note "opensnoop (Debian package libbpf-tools) is not installed: its row is skipped"
  fi
  row_untraced "$round" "untraced (again)"
done

# ---------------------------------------------------------------- the table
# Median per row over the rounds; the ratio is against the median of every untraced run (first
# and last of each round), so drift during the run widens nothing silently: both are shown.
echo
awk -F'\t' -v target="$TARGET_RATIO" -v mtarget="$METRICS_TARGET_RATIO" -v rounds="$ROUNDS" '
  function median(list,    a, n, i, j, t) {
    n = split(list, a, " ")
    for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] + 0 > t + 0; j--) a[j + 1] = a[j]; a[j + 1] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  NR == 1 { next }
  {
    if (!($2 in seen)) { seen[$2] = 1; order[++rows] = $2 }
    if ($3 != "-") { secs[$2] = secs[$2] " " $3 }
    if ($3 != "-" && $2 ~ /^untraced/) { base = base " " $3 }
    exp_[$2] = $4; del[$2] = $5; bg[$2] = $6; lost[$2] = $7; cpu[$2] = $8; bpf[$2] = $9; note_[$2] = $10
    if ($11 != "" && $11 != "-") { evps[$2] = evps[$2] " " $11 }
    if ($15 != "" && $15 != "-") { recps[$2] = recps[$2] " " $15 }
    recv[$2] = $12; drop[$2] = $13; fail[$2] = $14; xnote[$2] = $16
  }
  END {
    b = median(base)
    printf "%-52s %9s %7s %22s %8s %18s %8s  %s\n", "what", "seconds", "ratio", "events (expected " exp_[order[1]] ")", "lost", "tracer CPU s", "bpf ns", "note"
    for (i = 1; i <= rows; i++) {
      k = order[i]
      if (secs[k] == "") { printf "%-52s %9s %7s %22s %8s %18s %8s  %s\n", k, "-", "-", "-", "-", "-", "-", note_[k]; continue }
      s = median(secs[k])
      ev = del[k]
      if (bg[k] != "-" && bg[k] != "") ev = ev " (bg ~" bg[k] ")"
      if (k ~ /^untraced/) ev = "-"
      printf "%-52s %9.3f %7.2f %22s %8s %18s %8s  %s\n", k, s, s / b, ev, lost[k], cpu[k], bpf[k], note_[k]
      if (k == "agent trace_open") { agent_ratio = s / b; agent_lost = lost[k]; agent_ev = del[k]; agent_bg = bg[k] }
      if (k == "agent trace_open + OTLP logs") { logs_ratio = s / b; logs_ev = del[k]; logs_lost = lost[k] }
    }
    if (rounds > 1) printf "(medians of %d rounds; events, lost and CPU are from the last round)\n", rounds
    # The agent rows: sustained rates and what the export lost.
    hdr = 0
    for (i = 1; i <= rows; i++) {
      k = order[i]
      if (evps[k] == "" || secs[k] == "") continue
      if (!hdr) {
        printf "\n%-52s %7s %12s %12s %14s %10s %8s %12s  %s\n", "agent row", "ratio", "events/s", "lost (ring)", "log recs recvd", "dropped", "failed", "log recs/s", "note"
        hdr = 1
      }
      printf "%-52s %7.2f %12s %12s %14s %10s %8s %12s  %s\n", k, median(secs[k]) / b, median(evps[k]), lost[k], recv[k], drop[k], fail[k], (recps[k] == "" ? "-" : median(recps[k])), xnote[k]
      if (k == "agent trace_open metrics") { metrics_ratio = median(secs[k]) / b; metrics_lost = lost[k] }
    }
    if (hdr) printf "(events/s: events the agent counted during the loop / loop seconds; log recs/s: records received / time from the loop'"'"'s start to the end of the burst at the receiver; medians of the rounds, other columns from the last round)\n"
    if (agent_ratio != "") {
      # Every open of the loop must arrive: lost (counted in the kernel) is 0 and the delta is at
      # least N; what is above N are opens of other processes (compare with the idle-window estimate).
      n = exp_[order[1]]
      ok = agent_ratio <= target && agent_lost == 0 && agent_ev >= n
      printf "\nagent trace_open: %.2fx untraced (target <= %.2fx), lost %s, delivered %s for %s opens (%+d; background estimated from an idle window: ~%s): %s\n",
        agent_ratio, target, agent_lost, agent_ev, n, agent_ev - n, agent_bg, ok ? "MEETS the target" : "MISSES the target"
      printf "metrics only (export issue: <= %.2fx at N = %s): agent trace_open %.2fx (%s); ", mtarget, n, agent_ratio, agent_ratio <= mtarget ? "meets" : "MISSES"
      if (metrics_ratio != "") printf "agent trace_open metrics %.2fx, lost %s (%s)\n", metrics_ratio, metrics_lost, metrics_ratio <= mtarget ? "meets" : "MISSES"
      else printf "agent trace_open metrics not run\n"
    }
    if (logs_ratio != "") {
      k = "agent trace_open + OTLP logs"
      printf "with OTLP logs: %.2fx untraced, %s events/s, lost in the ring %s, log records received %s of %s events, dropped (queue full) %s, failed %s, %s records/s\n",
        logs_ratio, median(evps[k]), logs_lost, recv[k], logs_ev, drop[k], fail[k], (recps[k] == "" ? "-" : median(recps[k]))
    }
  }' "$RESULTS" | tee "$OUT/table.txt"
echo
echo "raw rows: $RESULTS; logs: $OUT" >&2
