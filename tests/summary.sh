#!/usr/bin/env bash
# Prints one closing line for every suite that ran: "tests: N passed, M failed, K skipped".
passed=0 failed=0 skipped=0
for dir in "$@"; do
  log="$dir/meson-logs/testlog.json"
  if [ -f "$log" ]; then
    passed=$((passed + $(grep -c '"result": "OK"' "$log" || true)))
    skipped=$((skipped + $(grep -c '"result": "SKIP"' "$log" || true)))
    failed=$((failed + $(grep -cE '"result": "(FAIL|TIMEOUT|ERROR|UNEXPECTEDPASS)"' "$log" || true)))
  fi
  fz="$dir/fuzz-summary.txt"
  if [ -f "$fz" ]; then
    passed=$((passed + $(grep -c '^ok' "$fz" || true)))
    failed=$((failed + $(grep -c '^not ok' "$fz" || true)))
  fi
done
echo "tests: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
