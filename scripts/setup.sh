#!/usr/bin/env bash
# Idempotent set-up for a fresh Debian 12 machine: the system tools the tests and the demo
# use (MariaDB server and client, restic, Prometheus and its Pushgateway) and the npm dependencies,
# Node 24 among them (the `node` package), which npm scripts put first on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ] || need+=(mariadb-server)
command -v mariadb >/dev/null 2>&1 || need+=(mariadb-client)
command -v mariadb-dump >/dev/null 2>&1 || need+=(mariadb-client)
command -v restic >/dev/null 2>&1 || need+=(restic)
command -v prometheus-pushgateway >/dev/null 2>&1 || need+=(prometheus-pushgateway)
# Prometheus 2.42 and promtool: the alert rules' unit tests and the dashboard/alert queries
# evaluated by a real Prometheus (test/helpers/prometheus.ts).
{ command -v prometheus && command -v promtool; } >/dev/null 2>&1 || need+=(prometheus)
[ -x /usr/bin/time ] || need+=(time)  # GNU time: peak RSS in the benchmarks
command -v zstd >/dev/null 2>&1 || need+=(zstd)  # the benchmark's floor pipeline (mariadb-dump | zstd -1)
{ command -v mydumper && command -v myloader; } >/dev/null 2>&1 || need+=(mydumper)  # the restore benchmark's reference (myloader -t N)
command -v rclone >/dev/null 2>&1 || need+=(rclone)  # `rclone serve restic`: the REST server of the tests
command -v zsh >/dev/null 2>&1 || need+=(zsh)  # checks the zsh completion script (zsh -n)
command -v script >/dev/null 2>&1 || need+=(bsdutils)  # a pseudo-terminal for the CLI's terminal tests
command -v go >/dev/null 2>&1 || [ -x /usr/local/go/bin/go ] || need+=(golang-go)  # builds versitygw below
sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]}" >&2
  $sudo apt-get update -q >&2
  # policy-rc.d-less images would start the packaged services; the tests start their own.
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${need[@]}" >&2
  for svc in mariadb prometheus-pushgateway prometheus; do
    $sudo service "$svc" stop >/dev/null 2>&1 || true
    # Not started at boot either (where systemd runs); the tests never use the packaged services.
    $sudo systemctl disable "$svc" >/dev/null 2>&1 || true
  done
fi

# A real S3 server for the tests: Versity S3 Gateway (Apache 2.0), built from the Go module proxy.
VERSITYGW_VERSION=v1.8.0
if [ ! -x .tools/bin/versitygw ]; then
  echo "setup: go install versitygw@$VERSITYGW_VERSION" >&2
  mkdir -p .tools/bin
  PATH="$PATH:/usr/local/go/bin" GOBIN="$PWD/.tools/bin" go install "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION" >&2
fi

# helm, for `helm lint` and `helm template` of the chart in the tests.
HELM_VERSION=v3.22.0
if [ ! -x .tools/bin/helm ]; then
  echo "setup: go install helm@$HELM_VERSION" >&2
  mkdir -p .tools/bin
  PATH="$PATH:/usr/local/go/bin" GOBIN="$PWD/.tools/bin" go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >&2
fi

# A real Kubernetes control plane (kube-apiserver, kube-controller-manager, kubectl, etcd) for
# the Kubernetes-mode tests, built from the Go module proxy into .tools/kube/bin (~6 min cold).
if [ ! -f .tools/kube/bin/.built-v1.34.2-etcd-v3.6.16 ]; then
  echo "setup: building kube-apiserver, kube-controller-manager, kubectl v1.34.2 and etcd v3.6.16 (some minutes)" >&2
  bash scripts/kube-build.sh >&2
fi

# restic 0.19.1 next to Debian's 0.14: the tests check that `restic rewrite` and `restic repair
# snapshots` (newer than 0.14) leave our snapshots alone. Built from the Go module proxy.
RESTIC_NEW_VERSION=0.19.1
if [ ! -x ".tools/bin/restic-$RESTIC_NEW_VERSION" ]; then
  echo "setup: go install restic@v$RESTIC_NEW_VERSION" >&2
  mkdir -p .tools/bin
  gobin=$(mktemp -d)
  PATH="$PATH:/usr/local/go/bin" GOSUMDB=off GOBIN="$gobin" go install "github.com/restic/restic/cmd/restic@v$RESTIC_NEW_VERSION" >&2
  mv "$gobin/restic" ".tools/bin/restic-$RESTIC_NEW_VERSION"
  rmdir "$gobin"
fi

# schemathesis (PyPI), which fuzzes the controller's OpenAPI description in the tests.
SCHEMATHESIS_VERSION=4.32.5
if [ ! -x .tools/venv/bin/schemathesis ]; then
  echo "setup: pip install schemathesis==$SCHEMATHESIS_VERSION" >&2
  python3 -m venv .tools/venv >&2 || { $sudo apt-get install -y -q python3-venv >&2 && python3 -m venv .tools/venv >&2; }
  .tools/venv/bin/pip install -q "schemathesis==$SCHEMATHESIS_VERSION" >&2
fi

stamp=node_modules/.setup-stamp
if [ -L node_modules ]; then
  # A worktree sharing another checkout's node_modules: npm ci would empty the shared directory.
  echo "setup: node_modules is a link to $(readlink node_modules); not reinstalling it" >&2
elif [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ] || [ package.json -nt "$stamp" ]; then
  echo "setup: npm ci" >&2
  npm ci --no-audit --no-fund >&2
  touch "$stamp"
fi
