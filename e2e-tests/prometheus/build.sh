#!/usr/bin/env bash
# Builds Prometheus and promtool from the Go module proxy into .cache/prometheus/<version>/bin, once per machine (no
# release binaries are reachable here): the alert-rule tests run promtool, the dashboard test a Prometheus server
# scraping real brokers. Without service discovery plugins (-tags remove_all_sd: the tests use static targets) and
# without the web UI's assets (the tests use the HTTP API).
# CAPSTAN_GO_CACHE: where Go's module and build caches go (default .cache; CI points it at a tmpfs).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
version="v0.316.0"
out="$root/.cache/prometheus/$version/bin"
cache="${CAPSTAN_GO_CACHE:-$root/.cache}"
export GOPATH="$cache/go" GOCACHE="$cache/go-build" GOBIN="$out"
mkdir -p "$out"

# one build at a time: CI starts one in the background, and the Maven build's call waits for it here
exec 9>"$out/.build.lock"
if ! flock -n 9; then
  echo "prometheus: another build of it is running; waiting for it"
  until flock -w 60 9; do echo "prometheus: still waiting for the other build"; done
fi
if [ -x "$out/prometheus" ] && [ -x "$out/promtool" ]; then
  echo "prometheus: prometheus and promtool $version already built ($out)"
  exit 0
fi

echo "prometheus: building prometheus and promtool $version from the Go module proxy into $out (a few minutes on 2 cores)"
start=$(date +%s)
cd "$root"
go install -v -tags remove_all_sd \
    "github.com/prometheus/prometheus/cmd/prometheus@$version" "github.com/prometheus/prometheus/cmd/promtool@$version" 2>&1 \
  | awk -v start="$start" '
      /^go: downloading / { d++; if (d % 50 == 0) { printf "prometheus: %d modules downloaded (%d s)\n", d, systime() - start; fflush() } next }
      /^[A-Za-z0-9._~\/-]+$/ { n++; if (n % 100 == 0) { printf "prometheus: %d packages compiled (%d s)\n", n, systime() - start; fflush() } next }
      { print; fflush() }'
[ -x "$out/prometheus" ] && [ -x "$out/promtool" ] || { echo "prometheus: the build left no binaries in $out (see above)"; exit 1; }
echo "prometheus: built in $(( $(date +%s) - start )) s"
