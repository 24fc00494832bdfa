#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages the build, the agent and the tests need, only those missing.
# Usage: scripts/install-packages.sh [build|test]   (test = build + what the tests use)
set -euo pipefail

required=(maven gcc make clang llvm libbpf-dev libelf-dev zlib1g-dev)
optional=()
# A JDK 17 or newer already on PATH (not from Debian's package) will do.
if ! command -v javac >/dev/null ||
  [[ "$(javac -version 2>&1 | sed -E 's/javac ([0-9]+).*/\1/')" -lt 17 ]]; then
  required+=(openjdk-17-jdk-headless)
fi
if [[ "${1:-build}" == test ]]; then
  # bpftool lists loaded programs (tests check nothing is left in the kernel); util-linux:
  # setpriv runs the agent unprivileged (and the jni namespace tests without CAP_SYS_ADMIN),
  # losetup makes profile_blockio's loop device.
  required+=(util-linux)
  # Real containers for the container tests: runc, a private containerd (and ctr), and a static
  # busybox copied into the test images (the package busybox has a dynamic one at the same path).
  required+=(runc containerd busybox-static)
  command -v bpftool >/dev/null || required+=(bpftool)
  # A real Prometheus scrapes the agent in the tests (they run /usr/bin/prometheus on a free
  # port). The package's postinst asks invoke-rc.d to start its service: denied where a
  # policy-rc.d forbids it (Docker images), else a daemon on :9090 that the tests do not use.
  required+=(prometheus)
  # The network gadgets' tests (trace_tcpretrans, trace_tcpdrop) cut a connection with an
  # nftables rule inside a private network namespace (unshare -n, ip link set lo up, nsenter).
  # trace_dns and the jni socket tests make theirs with ip netns add/exec (iproute2).
  required+=(nftables iproute2)
  # The peers the overhead benchmark compares against; the benchmark skips what is absent.
  optional+=(bpftrace libbpf-tools)
fi

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
command -v mvn >/dev/null && required=("${required[@]/maven/}")

missing=()
for p in "${required[@]}" "${optional[@]}"; do
  [[ -n $p ]] && ! installed "$p" && missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0
if [[ $(id -u) -ne 0 ]]; then
  echo "missing packages: ${missing[*]} — run as root (or install them) first" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
available() { apt-cache show "$1" >/dev/null 2>&1; }
to_install=()
for p in "${missing[@]}"; do
  if available "$p"; then
    to_install+=("$p")
  elif [[ $p == bpftool ]]; then
    # Ubuntu ships bpftool in linux-tools, per kernel.
    to_install+=(linux-tools-common "linux-tools-$(uname -r)")
  elif [[ " ${optional[*]} " == *" $p "* ]]; then
    echo "optional package $p is not available here: skipping it" >&2
  else
    echo "required package $p is not available from this machine's package sources" >&2
    exit 1
  fi
done
echo "installing: ${to_install[*]}" >&2
apt-get install -y -qq --no-install-recommends "${to_install[@]}" >/dev/null
