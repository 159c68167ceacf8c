#!/usr/bin/env bash
# Installs the system programs the test suite runs for real: redis-server (stores, fleet), haproxy
# (the non-sticky load balancer in front of the local fleet), promtool (alert rules), and Go with
# the libraries the offline chart renderer is built from. Debian/Ubuntu, as root; prints what is
# missing and how to get it elsewhere. kubectl (1.27+, for kustomize v5) is not in Debian's or
# npm's registries: the packaging tests use the one on the machine and say so when it is missing.
set -euo pipefail

need=()
command -v redis-server >/dev/null || need+=(redis-server)
command -v haproxy >/dev/null || need+=(haproxy)
command -v promtool >/dev/null || need+=(prometheus)
command -v go >/dev/null || need+=(golang-go)
for lib in golang-github-masterminds-sprig-dev golang-github-xeipuuv-gojsonschema-dev golang-k8s-sigs-yaml-dev; do
  dpkg -s "$lib" >/dev/null 2>&1 || need+=("$lib")
done
command -v kubectl >/dev/null || echo "note: kubectl (1.27 or later) is not installed; the kustomize tests will fail until it is" >&2

if [ ${#need[@]} -eq 0 ]; then
  echo "test dependencies: all present"
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "missing: ${need[*]}" >&2
  echo "install them with your package manager (Debian/Ubuntu as root: apt-get install -y ${need[*]})" >&2
  exit 1
fi
echo "installing: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# Debian's prometheus package starts a server on :9090; the tests only need promtool.
if command -v systemctl >/dev/null && systemctl is-active --quiet prometheus 2>/dev/null; then systemctl stop prometheus || true; fi
echo "test dependencies: installed"
