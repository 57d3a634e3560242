#!/usr/bin/env bash
# The whole test suite, as README.md and CI run it:
#   1. build with warnings as errors and run `make check`
#      (unit tests with the RFC vectors, PROTOCOL.md vectors, fuzz corpus
#       replay, the tools, a real NSD server on loopback queried by dig
#       and autosec-ctl);
#   2. the same under AddressSanitizer + UndefinedBehaviorSanitizer;
#   3. `make distcheck`;
#   4. the network scenarios: real programs between network namespaces
#      through autosec-helper, judged by a capture and by tshark;
#   5. each libFuzzer target for a bounded time.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$(pwd)
bash demo/install-deps.sh
jobs=$(nproc 2>/dev/null || echo 2)
results=()
step() { # name, command...
	local name=$1
	shift
	echo "=== $name"
	if "$@"; then
		results+=("PASS $name")
	else
		results+=("FAIL $name")
	fi
}
show_logs() { # print failing test logs so CI output says why
	find "$1" -name '*.log' -newer "$1/Makefile" -print0 2>/dev/null |
		xargs -0 -r grep -l -E '^(FAIL|ERROR)' 2>/dev/null | grep -v test-suite.log |
		while read -r f; do echo "--- $f"; tail -60 "$f"; done
}
build_and_check() { # dir, configure flags...
	local dir=$1
	shift
	rm -rf "$dir"
	mkdir -p "$dir"
	(cd "$dir" && "$src/configure" -q "$@" && make -s -j"$jobs" &&
		{ make -s -j"$jobs" check || { show_logs .; false; }; })
}

autoreconf -fi >/dev/null 2>&1 || autoreconf -fi
step "build + make check (-Werror)" build_and_check "$src/build/ci" --enable-werror
step "make check under ASan+UBSan" build_and_check "$src/build/asan" --enable-werror --enable-sanitizers
step "make distcheck" bash -c "cd '$src/build/ci' && make -s distcheck DISTCHECK_CONFIGURE_FLAGS=--enable-werror >distcheck.out 2>&1 || { tail -80 distcheck.out; false; }"
netrun() { env top_srcdir="$src" top_builddir="$src/build/ci" bash tests/net/traffic.sh "$@"; }
step "network judge self-test (synthetic capture)" netrun --self-test
step "network negative control (no helpers: cleartext must be seen)" netrun --control-plain
step "network scenarios (namespaces, needs root)" netrun
step "libFuzzer targets (bounded)" bash tests/fuzz/run.sh "${FUZZ_SECONDS:-30}"

echo
echo "=== summary"
pass=0 fail=0
for r in "${results[@]}"; do
	echo "$r"
	case $r in PASS*) pass=$((pass + 1)) ;; *) fail=$((fail + 1)) ;; esac
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
