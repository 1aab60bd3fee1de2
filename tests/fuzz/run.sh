#!/usr/bin/env bash
# Runs every fuzz target of BUILD_DIR for SECONDS each; writes BUILD_DIR/fuzz-summary.txt.
set -u
build=$1 secs=${2:-20}
here=$(cd "$(dirname "$0")" && pwd)
out="$build/fuzz-summary.txt"
: >"$out"
status=0
for target in "$build"/tests/fuzz/fuzz-*; do
  [ -f "$target" ] && [ -x "$target" ] || continue
  name=$(basename "$target")
  corpus="$build/corpus-$name"
  mkdir -p "$corpus"
  [ -d "$here/corpus/$name" ] && cp -n "$here/corpus/$name"/* "$corpus/" 2>/dev/null
  if "$target" -max_total_time="$secs" -max_len=65536 -print_final_stats=1 "$corpus" \
       >"$build/$name.log" 2>&1; then
    echo "ok - $name ($secs s, $(grep -o 'stat::number_of_executed_units: *[0-9]*' "$build/$name.log" | grep -o '[0-9]*$') runs)" | tee -a "$out"
  else
    echo "not ok - $name: see $build/$name.log" | tee -a "$out"
    tail -40 "$build/$name.log"
    status=1
  fi
done
exit $status
