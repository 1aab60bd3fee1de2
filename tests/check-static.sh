#!/usr/bin/env bash
# The guest binaries must be fully static: the initrd holds no libc.
set -u
status=0
for bin in "$@"; do
  desc=$(file -b "$bin")
  if grep -q 'statically linked' <<<"$desc" && ! grep -q 'dynamically' <<<"$desc"; then
    echo "ok - $(basename "$bin") is statically linked"
  else
    echo "not ok - $(basename "$bin"): $desc"
    status=1
  fi
done
exit $status
