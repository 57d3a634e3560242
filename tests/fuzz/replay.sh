#!/usr/bin/env bash
# Replays every checked-in fuzz corpus through its target (make check).
set -euo pipefail
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
pass=0 fail=0
for t in keyrec msg esp dns; do
	bin="$top_builddir/tests/fuzz/replay_$t"
	corpus="$top_srcdir/tests/fuzz/corpus/$t"
	if [ ! -x "$bin" ]; then
		echo "FAIL: $bin not built"; fail=$((fail + 1)); continue
	fi
	if [ ! -d "$corpus" ] || [ -z "$(ls -A "$corpus")" ]; then
		echo "FAIL: corpus $corpus is empty"; fail=$((fail + 1)); continue
	fi
	if out=$("$bin" "$corpus" 2>&1); then
		echo "ok: fuzz_$t: $out"; pass=$((pass + 1))
	else
		echo "FAIL: fuzz_$t: $out"; fail=$((fail + 1))
	fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
