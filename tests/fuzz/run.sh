#!/usr/bin/env bash
# Builds each fuzz target with clang's libFuzzer + ASan + UBSan and runs it
# for a bounded time on a scratch copy of its checked-in corpus.
#   tests/fuzz/run.sh [SECONDS_PER_TARGET]
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-30}
command -v clang >/dev/null || { echo "FAIL: clang is needed for libFuzzer (apt-get install clang)"; exit 1; }
out=build/fuzz
mkdir -p "$out"
core=(helper/buf.c helper/err.c helper/rng.c helper/alg.c helper/pkey.c helper/keyrec.c
	helper/crypto.c helper/hpke.c helper/dh.c helper/esp.c helper/msg.c helper/dns.c helper/lookup.c)
cflags=(-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
	-D_GNU_SOURCE -Iinclude -Itests/fuzz)
pass=0 fail=0
for t in keyrec msg esp dns; do
	if ! clang "${cflags[@]}" "tests/fuzz/fuzz_$t.c" "${core[@]}" -lcrypto -lcares -o "$out/fuzz_$t" \
		2> "$out/fuzz_$t.build.log"; then
		echo "FAIL: fuzz_$t does not build:"; tail -20 "$out/fuzz_$t.build.log"
		fail=$((fail + 1)); continue
	fi
	work="$out/corpus_$t"
	rm -rf "$work"; mkdir -p "$work"
	cp tests/fuzz/corpus/$t/* "$work/"
	if timeout $((secs + 60)) "$out/fuzz_$t" -max_total_time="$secs" -rss_limit_mb=2048 \
		-max_len=4096 -print_final_stats=1 "$work" > "$out/fuzz_$t.log" 2>&1; then
		echo "ok: fuzz_$t ran ${secs}s: $(grep -E 'stat::number_of_executed_units' "$out/fuzz_$t.log" | awk '{print $2}') executions"
		pass=$((pass + 1))
	else
		echo "FAIL: fuzz_$t found a problem:"; grep -A30 -E 'ERROR|runtime error' "$out/fuzz_$t.log" | head -60
		fail=$((fail + 1))
	fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
