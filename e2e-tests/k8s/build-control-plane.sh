#!/usr/bin/env bash
# Builds a real Kubernetes control plane (kube-apiserver, kube-controller-manager, kube-scheduler, etcd) from the Go
# module proxy into .cache/k8s/<version>/bin, once per machine: no release binaries or images are reachable here.
# Usage: e2e-tests/k8s/build-control-plane.sh [--only kube-apiserver,etcd]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
version="v1.37.2"
out="$root/.cache/k8s/$version/bin"
only="kube-apiserver,kube-controller-manager,kube-scheduler,etcd"
if [ "${1:-}" = "--only" ]; then only="$2"; fi
export GOPATH="$root/.cache/go" GOCACHE="$root/.cache/go-build" GOFLAGS=-mod=mod
mkdir -p "$out"
cd "$root/e2e-tests/k8s/controlplane"
IFS=',' read -ra wanted <<< "$only"
for binary in "${wanted[@]}"; do
  if [ -x "$out/$binary" ]; then
    echo "control plane: $binary $version already built ($out/$binary)"
    continue
  fi
  echo "control plane: building $binary $version from the Go module proxy (first time on this machine: a few minutes)..."
  start=$(date +%s)
  go build -o "$out/" -ldflags "-X k8s.io/component-base/version.gitVersion=$version -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=37" "./cmd/$binary"
  echo "control plane: $binary built in $(( $(date +%s) - start )) s"
done
