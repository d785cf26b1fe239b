#!/usr/bin/env bash
# Builds a real Kubernetes control plane (kube-apiserver, kube-controller-manager, kube-scheduler, etcd) from the Go
# module proxy into .cache/k8s/<version>/bin, once per machine: no release binaries or images are reachable here.
# The e2e-tests module runs it before its control-plane suites (./mvnw verify); once built it returns at once.
# Usage: e2e-tests/k8s/build-control-plane.sh [--only kube-apiserver,etcd]
# CAPSTAN_GO_CACHE: where Go's module and build caches go (default .cache; CI points it at a tmpfs).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
version="v1.37.2"
out="$root/.cache/k8s/$version/bin"
only="kube-apiserver,kube-controller-manager,kube-scheduler,etcd"
if [ "${1:-}" = "--only" ]; then only="$2"; fi
cache="${CAPSTAN_GO_CACHE:-$root/.cache}"
export GOPATH="$cache/go" GOCACHE="$cache/go-build" GOFLAGS=-mod=mod
mkdir -p "$out"

# One build per machine at a time: CI starts one early in the background, and the Maven build's call waits for it
# here, then finds its binaries.
exec 9>"$out/.build.lock"
if ! flock -n 9; then
  started=$(date +%s)
  echo "control plane: another build of it is running${CAPSTAN_CONTROL_PLANE_LOG:+ (its log: $CAPSTAN_CONTROL_PLANE_LOG)}; waiting for it"
  until flock -w 60 9; do
    echo "control plane: still waiting for the other build ($(( $(date +%s) - started )) s)${CAPSTAN_CONTROL_PLANE_LOG:+: $(tail -1 "$CAPSTAN_CONTROL_PLANE_LOG" 2>/dev/null)}"
  done
fi

# Gateway API's CRDs (BrokerPodsTest's tlsroute listener), from the same module proxy: its standard channel.
gateway_api="v1.6.3"
gateway_crds="$root/.cache/gateway-api/$gateway_api"
if [ ! -s "$gateway_crds/gateway.networking.k8s.io_tlsroutes.yaml" ]; then
  echo "control plane: fetching Gateway API $gateway_api's CRDs into $gateway_crds"
  dir=$(cd "$root" && go mod download -json "sigs.k8s.io/gateway-api@$gateway_api" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  mkdir -p "$gateway_crds"
  cp "$dir"/config/crd/standard/gateway.networking.k8s.io_*.yaml "$gateway_crds/"
  chmod u+w "$gateway_crds"/*.yaml
fi

IFS=',' read -ra wanted <<< "$only"
packages=()
for binary in "${wanted[@]}"; do
  if [ -x "$out/$binary" ]; then
    echo "control plane: $binary $version already built ($out/$binary)"
  else
    packages+=("./cmd/$binary")
  fi
done
if [ ${#packages[@]} -eq 0 ]; then
  exit 0
fi

echo "control plane: building ${packages[*]} ($version) from the Go module proxy into $out"
echo "control plane: the first time on a machine this takes about 10 minutes on 2 cores; progress every 250 packages"
start=$(date +%s)
cd "$root/e2e-tests/k8s/controlplane"
# One go build for all of them: their shared packages compile once and the links run in parallel. -s -w: no symbol
# tables or DWARF (smaller, faster links; nobody debugs these binaries here). go build -v names each package it
# compiles and each module it downloads; their counts are the progress, and anything else (a compile error) is passed
# through.
go build -v -o "$out/" \
    -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=$version -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=37" \
    "${packages[@]}" 2>&1 \
  | awk -v start="$start" '
      /^go: downloading / { d++; if (d % 50 == 0) { printf "control plane: %d modules downloaded (%d s)\n", d, systime() - start; fflush() } next }
      /^[A-Za-z0-9._~\/-]+$/ { n++; if (n % 250 == 0) { printf "control plane: %d packages compiled (%d s)\n", n, systime() - start; fflush() } next }
      { print; fflush() }'
echo "control plane: built ${packages[*]} in $(( $(date +%s) - start )) s"
