#!/usr/bin/env bash
# Quick start: installs what is missing, builds the agent jar if needed, and runs the agent.
# Without arguments it runs the embedded default configuration (trace_exec and trace_open on the
# whole host, /metrics on 0.0.0.0:9464). Arguments go to `gadget-exporter run`, e.g. --config FILE.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-packages.sh build
jar=exporter/target/gadget-exporter.jar
if [[ ! -f $jar ]]; then
  mvn -B -q -DskipTests package
fi
exec java -jar "$jar" run "$@"
