#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages the build, the agent and the tests need, only those missing.
# Usage: scripts/install-packages.sh [build|test]   (test = build + what the tests use)
set -euo pipefail

want=(openjdk-17-jdk-headless maven gcc make clang llvm libbpf-dev libelf-dev zlib1g-dev)
if [[ "${1:-build}" == test ]]; then
  # bpftool lists loaded programs (tests check nothing is left in the kernel); setpriv (util-linux)
  # runs the agent unprivileged; bpftrace and libbpf-tools are the peers the benchmark compares.
  want+=(bpftool util-linux bpftrace libbpf-tools)
fi

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# A JDK 17 or newer already on PATH (not from Debian's package) will do.
if command -v javac >/dev/null && [[ "$(javac -version 2>&1 | sed -E 's/javac ([0-9]+).*/\1/')" -ge 17 ]]; then
  missing=("${missing[@]/openjdk-17-jdk-headless}")
fi
command -v mvn >/dev/null && missing=("${missing[@]/maven}")
read -r -a missing <<<"${missing[*]}"
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -ne 0 ]]; then
  echo "missing packages: ${missing[*]} — run as root (or install them) first" >&2
  exit 1
fi
echo "installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
