#!/usr/bin/env bash
# Builds a real Kubernetes control plane for the Kubernetes-mode tests, from the Go module proxy
# only, into .tools/kube/bin (cached: a second run returns at once): kube-apiserver,
# kube-controller-manager and kubectl v1.34.2 (module k8s.io/kubernetes with its ./staging
# replace lines swapped for the published k8s.io/* v0.34.2 modules) and etcd v3.6.16 (a 3-line
# main calling etcdmain.Main). Adapted from ../shared/recipes/kube/kube-apiserver.sh.
# Cold: ~6 min and ~3.5 GB of Go caches on a 2-core machine; the four binaries are ~280 MB.
# test/helpers/kube-apiserver.ts starts them (on loopback, free ports, one per test file).
set -euo pipefail
cd "$(dirname "$0")/.."
K8S_VERSION=${K8S_VERSION:-v1.34.2}
ETCD_VERSION=${ETCD_VERSION:-v3.6.16}
DIR=$PWD/.tools/kube
BIN=$DIR/bin
STAMP=$BIN/.built-$K8S_VERSION-etcd-$ETCD_VERSION
[ -f "$STAMP" ] && [ -x "$BIN/kube-apiserver" ] && [ -x "$BIN/kube-controller-manager" ] && [ -x "$BIN/kubectl" ] && [ -x "$BIN/etcd" ] && exit 0

# etcd 3.6.16 needs Go >= 1.26 (Debian 12's golang-go is 1.19): the machine's /usr/local/go.
GO=${GO:-$(command -v /usr/local/go/bin/go || command -v go)}
export GOFLAGS=-mod=mod GOWORK=off CGO_ENABLED=0 GOCACHE=${GOCACHE:-/tmp/kube-gocache} GOSUMDB=${GOSUMDB:-off}
t0=$SECONDS
mkdir -p "$BIN"
SRC=$(mktemp -d)
trap 'rm -rf "$SRC"' EXIT
minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
staging=v0.${K8S_VERSION#v1.}   # v1.34.2 -> v0.34.2 (the published k8s.io/* staging modules)

mod=$(cd /tmp && "$GO" mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')
[ -d "$mod" ] || { echo "kube-build: download of k8s.io/kubernetes@$K8S_VERSION failed" >&2; exit 1; }
cp -r "$mod" "$SRC/kubernetes"; chmod -R u+w "$SRC/kubernetes"
(
  cd "$SRC/kubernetes"
  rm -f go.work go.work.sum
  sed -i -E '/^replace \(/,/^\)/d' go.mod
  sed -i -E "s#^(\s+k8s\.io/[a-z0-9-]+) v0\.0\.0\$#\1 $staging#" go.mod
  ldf="-s -w"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldf="$ldf -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  "$GO" build -p 2 -trimpath -ldflags "$ldf" -o "$BIN/" ./cmd/kube-apiserver ./cmd/kube-controller-manager ./cmd/kubectl
)
# etcd: `go install go.etcd.io/etcd/server/v3@...` is refused (replace directives), so a main
# module of our own calling etcdmain.Main (identical to server/v3/main.go).
mkdir -p "$SRC/etcd"
(
  cd "$SRC/etcd"
  printf 'package main\n\nimport (\n\t"os"\n\n\t"go.etcd.io/etcd/server/v3/etcdmain"\n)\n\nfunc main() { etcdmain.Main(os.Args) }\n' > main.go
  printf 'module local/etcd\n\ngo 1.24\n\nrequire go.etcd.io/etcd/server/v3 %s\n' "$ETCD_VERSION" > go.mod
  "$GO" mod tidy
  "$GO" build -p 2 -trimpath -ldflags "-s -w" -o "$BIN/etcd" .
)
touch "$STAMP"
echo "kube-build: kube-apiserver, kube-controller-manager, kubectl $K8S_VERSION and etcd $ETCD_VERSION in $((SECONDS-t0)) s" >&2
