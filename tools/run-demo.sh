#!/usr/bin/env bash
# `make run`: the main job. Until the VM image lands this starts ember-agent standalone on a
# unix socket and drives it the way a Kata runtime starts: Health.Check, then Version.
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
tmp=$(mktemp -d /tmp/ember-run.XXXXXX)
trap 'kill "$agent" 2>/dev/null || true; wait "$agent" 2>/dev/null || true; rm -rf "$tmp"' EXIT

addr="unix://$tmp/agent.sock"
EMBER_CMDLINE_FILE=/dev/null "$build/agent/ember-agent" --listen "$addr" --log-format text &
agent=$!
for _ in $(seq 100); do [ -S "$tmp/agent.sock" ] && break; sleep 0.05; done

ctl="$build/tools/emberctl/emberctl --addr $addr"
echo "+ emberctl check";   $ctl check
echo "+ emberctl version"; $ctl version
echo "ember-agent answered on $addr"
