#!/usr/bin/env bash
# Build the Go ttrpc benchmark anchor offline (Debian golang-go +
# golang-github-containerd-ttrpc-dev, GOPATH mode, no module downloads).
#
#   bench/go-ttrpc/build.sh OUTDIR
#
# Produces OUTDIR/go-ttrpc-server and OUTDIR/go-ttrpc-client.
# The Go build cache goes to OUTDIR/.gocache (override with GOCACHE_DIR).
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 OUTDIR" >&2
    exit 2
fi
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mkdir -p "$1"
out=$(cd "$1" && pwd)

if ! command -v go >/dev/null 2>&1; then
    echo "$0: 'go' not found (apt-get install golang-go golang-github-containerd-ttrpc-dev)" >&2
    exit 1
fi
if [ ! -d /usr/share/gocode/src/github.com/containerd/ttrpc ]; then
    echo "$0: containerd/ttrpc sources missing (apt-get install golang-github-containerd-ttrpc-dev)" >&2
    exit 1
fi

export GO111MODULE=off
export GOPATH=/usr/share/gocode
export GOFLAGS=
export GOPROXY=off
export CGO_ENABLED=0
export GOCACHE="${GOCACHE_DIR:-$out/.gocache}"
mkdir -p "$GOCACHE"

cd "$here"
go build -o "$out/go-ttrpc-server" ./server
go build -o "$out/go-ttrpc-client" ./client
echo "built $out/go-ttrpc-server $out/go-ttrpc-client"
