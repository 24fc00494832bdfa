#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Runs the JMH benchmarks of bench/ with short settings that suit a 2-core machine, and prints
# ns per event for each.
#
#   bench/jmh/run.sh [REGEX] [extra JMH options]
#
#   REGEX   which benchmarks (default: all of io.gadgetexporter.bench). The kernel one,
#           TraceOpenDrainBenchmark, needs root; DecodeBenchmark and EventPathBenchmark (decode →
#           enrich → metrics → OTLP log record, and the OTLP encoding) do not.
#   e.g.    bench/jmh/run.sh DecodeBenchmark -prof gc
#           bench/jmh/run.sh EventPathBenchmark -prof gc
#
# Environment: JAVA (default java), JMH_OPTS (default "-f 1 -wi 3 -w 1s -i 5 -r 1s"),
#   BENCH_JAR (default bench/target/benchmarks.jar; build with `mvn -B -DskipTests package`).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
JAVA=${JAVA:-java}
BENCH_JAR=${BENCH_JAR:-$ROOT/bench/target/benchmarks.jar}
JMH_OPTS=${JMH_OPTS:--f 1 -wi 3 -w 1s -i 5 -r 1s}
REGEX=${1:-io.gadgetexporter.bench}
shift || true

if [[ ! -f $BENCH_JAR ]]; then
  echo "bench/jmh/run.sh: $BENCH_JAR is missing; build it first:" >&2
  echo "  cd $ROOT && mvn -B -DskipTests package" >&2
  exit 1
fi
if [[ $EUID -ne 0 ]] && [[ io.gadgetexporter.bench.TraceOpenDrainBenchmark.drain =~ $REGEX ]]; then
  echo "bench/jmh/run.sh: not root: TraceOpenDrainBenchmark will fail to load its BPF program" >&2
  echo "  (run as root, or only the kernel-free ones: $0 'DecodeBenchmark|EventPathBenchmark')" >&2
fi

OUT=${OUT_DIR:-$ROOT/bench/out}
mkdir -p "$OUT"
RESULT=$OUT/jmh-$(date +%Y%m%d-%H%M%S).json

# One fork, short iterations: the numbers are per event (each operation is one event, the
# benchmarks set @OperationsPerInvocation), so a few seconds per benchmark are enough.
# shellcheck disable=SC2086
"$JAVA" -jar "$BENCH_JAR" "$REGEX" $JMH_OPTS -rf json -rff "$RESULT" "$@"

echo
echo "ns per event (score ± 99.9% error), from $RESULT:"
if command -v jq >/dev/null; then
  jq -r '.[] | [(.benchmark | sub("^io\\.gadgetexporter\\.bench\\."; "")),
                (.primaryMetric.score | . * 10 | round / 10),
                (.primaryMetric.scoreError | if . == "NaN" then "?" else (. * 10 | round / 10) end)]
         | "  \(.[0])  \(.[1]) ± \(.[2]) ns/event"' "$RESULT" | column -t
else
  grep -E '"benchmark"|"score"' "$RESULT" | paste - - | sed -E 's/[",]//g; s/ +/ /g'
fi
