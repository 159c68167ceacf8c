#!/usr/bin/env bash
# The conformance suite needs Node 22+; the server stays on the Node that runs npm. Installs Node 22
# from the npm registry into node_modules/.cache (off the PATH of npm scripts) when not yet there.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=node_modules/.cache/conformance-node
case "$(uname -m)" in x86_64) arch=x64 ;; aarch64|arm64) arch=arm64 ;; *) arch=$(uname -m) ;; esac
pkg="node-$(uname -s | tr '[:upper:]' '[:lower:]')-$arch"
if [ -x "$dir/node_modules/$pkg/bin/node" ] || [ -n "${CONFORMANCE_NODE:-}" ]; then exit 0; fi
npm install --no-save --no-audit --no-fund --prefix "$dir" "$pkg@22" >/dev/null
