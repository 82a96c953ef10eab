#!/usr/bin/env bash
# Builds the envtest binaries (etcd, kube-apiserver, kubectl) from Go modules, pinned by the
# go.mod/go.sum files under hack/envtest/, into setup-envtest's folder layout
# ($XDG_DATA_HOME/kubebuilder-envtest/k8s/<version>-<os>-<arch>, ~/.local/share/... when
# XDG_DATA_HOME is unset), and prints that directory: the KUBEBUILDER_ASSETS path.
# Only the Go module proxy is used: setup-envtest's own download is unreachable here.
# Idempotent: binaries already in place are not rebuilt.
#
#   hack/envtest.sh          build what is missing (progress on stderr), print the path
#   hack/envtest.sh --path   print the path only, build nothing
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-1.37.2}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
data="${XDG_DATA_HOME:-$HOME/.local/share}"
dest="$data/kubebuilder-envtest/k8s/${K8S_VERSION}-$(go env GOOS)-$(go env GOARCH)"

if [ "${1:-}" = "--path" ]; then
  echo "$dest"
  exit 0
fi

log() { echo "envtest: $*" >&2; }

# hack/envtest/kubernetes pins k8s.io/kubernetes; building another version needs its go.mod.
pinned="$(sed -n 's/^require k8s.io\/kubernetes v\(.*\)$/\1/p' "$here/envtest/kubernetes/go.mod")"
if [ "$pinned" != "$K8S_VERSION" ]; then
  log "K8S_VERSION=$K8S_VERSION but hack/envtest/kubernetes/go.mod pins k8s.io/kubernetes v$pinned"
  exit 1
fi

# The server must report a real version (not v0.0.0-master): Helm checks kubeVersion.
minor="${K8S_VERSION#*.}"; minor="${minor%%.*}"
ldflags="-s -w -X k8s.io/component-base/version.gitVersion=v${K8S_VERSION} \
-X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=${minor} \
-X k8s.io/component-base/version.gitTreeState=clean"

build() { # build <module dir> <package> <output name> <expected time>
  local dir="$1" pkg="$2" out="$3" expect="$4"
  if [ -x "$dest/$out" ]; then return 0; fi
  log "building $out from $pkg (first time only; about $expect on 2 cores)..."
  local start=$SECONDS ticker
  # A heartbeat while the compiler works: the first build takes minutes.
  ( while sleep 30; do log "  still building $out ($((SECONDS - start))s)"; done ) &
  ticker=$!
  # shellcheck disable=SC2064
  trap "kill $ticker 2>/dev/null || true; rm -f '$dest/$out.tmp'" EXIT
  (cd "$here/envtest/$dir" && CGO_ENABLED=0 go build -mod=readonly -trimpath -ldflags "$ldflags" \
    -o "$dest/$out.tmp" "$pkg")
  kill "$ticker" 2>/dev/null || true
  wait "$ticker" 2>/dev/null || true
  trap - EXIT
  mv "$dest/$out.tmp" "$dest/$out"
  log "built $out in $((SECONDS - start))s"
}

mkdir -p "$dest"
build etcd go.etcd.io/etcd/server/v3 etcd "1 minute"
build kubernetes k8s.io/kubernetes/cmd/kube-apiserver kube-apiserver "5 minutes"
build kubernetes k8s.io/kubernetes/cmd/kubectl kubectl "2 minutes"
echo "$dest"
