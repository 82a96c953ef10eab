#!/usr/bin/env bash
# Builds the envtest binaries (etcd, kube-apiserver, kubectl) from Go modules, pinned,
# into setup-envtest's folder layout, and prints the KUBEBUILDER_ASSETS path.
# Only the Go module proxy is used: setup-envtest's own download is unreachable here.
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-1.37.2}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
data="${XDG_DATA_HOME:-$HOME/.local/share}"
dest="$data/kubebuilder-envtest/k8s/${K8S_VERSION}-$(go env GOOS)-$(go env GOARCH)"

log() { echo "envtest: $*" >&2; }

# The server must report a real version (not v0.0.0-master): Helm checks kubeVersion.
minor="${K8S_VERSION#*.}"; minor="${minor%%.*}"
ldflags="-s -w -X k8s.io/component-base/version.gitVersion=v${K8S_VERSION} \
-X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=${minor} \
-X k8s.io/component-base/version.gitTreeState=clean"

build() { # build <module dir> <package> <output name>
  local dir="$1" pkg="$2" out="$3"
  if [ -x "$dest/$out" ]; then return 0; fi
  log "building $out from $pkg (first time only; kube-apiserver takes ~5 minutes on 2 cores)..."
  local start=$SECONDS
  (cd "$here/envtest/$dir" && GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$dest/$out.tmp" "$pkg")
  mv "$dest/$out.tmp" "$dest/$out"
  log "built $out in $((SECONDS - start))s"
}

mkdir -p "$dest"
build etcd go.etcd.io/etcd/server/v3 etcd
build kubernetes k8s.io/kubernetes/cmd/kube-apiserver kube-apiserver
build kubernetes k8s.io/kubernetes/cmd/kubectl kubectl
echo "$dest"
