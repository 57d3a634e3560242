#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# The keylog (helper/keylog.c) against the real judge: tshark must decrypt ESP
# packets made by our esp.c with nothing but the lines as_keylog wrote.
# tests/keylog_pcap builds the packets (IPv4 ESP-in-UDP 4500, IPv6 native
# ESP), the pcap and the esp_sa file.  Run by `make check` with $top_builddir.
set -euo pipefail

top_builddir=${top_builddir:-$(cd "$(dirname "$0")/.." && pwd)}
GEN="$top_builddir/tests/keylog_pcap"
T=$(mktemp -d "${TMPDIR:-/tmp}/autosec-keylog.XXXXXX")
pass=0
fail=0
finished=0
finish() {
	rm -rf "$T"
	if [ "$finished" != 1 ]; then
		echo "FAIL - keylog-tshark.sh stopped early"
		echo "$pass passed, $((fail + 1)) failed"
		exit 1
	fi
}
trap finish EXIT

ok() { pass=$((pass + 1)); echo "ok   - $1"; }
bad() { fail=$((fail + 1)); echo "FAIL - $1"; }

if ! command -v tshark >/dev/null 2>&1; then
	echo "FAIL - tshark not found (apt-get install tshark): the keylog cannot be checked"
	finished=1
	echo "0 passed, 1 failed"
	exit 1
fi
if [ ! -x "$GEN" ]; then
	echo "FAIL - $GEN not built (make check builds it)"
	finished=1
	echo "0 passed, 1 failed"
	exit 1
fi
echo "# $(tshark --version 2>/dev/null | head -n 1)"

mkdir -p "$T/out"
"$GEN" "$T/out"
PCAP="$T/out/esp.pcap"

# ts PROFILE-DIR [tshark options...]: fields of every frame, on a private
# profile so that no user or system preference interferes.
ts() {
	local cfg=$1
	shift
	XDG_CONFIG_HOME="$cfg" HOME="$T" tshark -n -r "$PCAP" \
		-o esp.enable_encryption_decode:TRUE -o esp.enable_authentication_check:TRUE \
		"$@" -T fields -E separator=/t -e frame.number -e esp.icv_good -e data.data
}
field() { # field OUTFILE FRAME COLUMN
	awk -F '\t' -v f="$2" -v c="$3" '$1 == f { print $c }' "$1"
}

# The file as the helper leaves it.
mode=$(stat -c %a "$T/out/esp_sa")
if [ "$mode" = 600 ]; then ok "esp_sa is mode 0600"; else bad "esp_sa is mode $mode"; fi

# 1. The whole file as a profile's esp_sa table.
mkdir -p "$T/cfg/wireshark"
cp "$T/out/esp_sa" "$T/cfg/wireshark/esp_sa"
ts "$T/cfg" >"$T/all.out" 2>"$T/all.err"
if grep -q "Error loading table" "$T/all.err"; then
	bad "tshark loads esp_sa without error: $(grep Error "$T/all.err")"
else
	ok "tshark loads esp_sa without error"
fi
while read -r frame name commented payload; do
	got=$(field "$T/all.out" "$frame" 3 | tr -d ':')
	icv=$(field "$T/all.out" "$frame" 2)
	if [ "$commented" = 1 ]; then
		if [ -z "$got" ]; then
			ok "$name: written commented out, not decrypted by this tshark"
		else
			bad "$name: decrypted although its line is commented out"
		fi
		continue
	fi
	if [ "$got" = "$payload" ]; then
		ok "$name: tshark decrypts the payload (profile esp_sa)"
	else
		bad "$name: payload \"$got\", want \"$payload\""
	fi
	if [ "$icv" = 1 ] || [ "$icv" = True ]; then
		ok "$name: ICV verified by tshark"
	else
		bad "$name: ICV not verified (esp.icv_good \"$icv\")"
	fi
done <"$T/out/expect"

# 2. Each line alone, as tshark -o 'uat:esp_sa:LINE'.
while read -r frame name commented payload; do
	[ "$commented" = 1 ] && continue
	line=$(grep -v '^#' "$T/out/esp_sa" | sed -n "$(awk -v f="$frame" '
		BEGIN { n = 0 } $3 == 0 { n++ } $1 == f { print n }' "$T/out/expect")p")
	ts "$T/empty" -o "uat:esp_sa:$line" >"$T/one.out" 2>"$T/one.err" || true
	got=$(field "$T/one.out" "$frame" 3 | tr -d ':')
	if [ "$got" = "$payload" ]; then
		ok "$name: tshark decrypts with -o uat:esp_sa:LINE"
	else
		bad "$name: -o uat:esp_sa: payload \"$got\" ($(grep -v 'Running as' "$T/one.err" | head -n 1))"
	fi
done <"$T/out/expect"

# 2b. An address the helper did not know is written "*": Wireshark's wildcard.
read -r frame name _ payload <"$T/out/expect"
line=$(grep -v '^#' "$T/out/esp_sa" | head -n 1 | awk -F '","' 'BEGIN { OFS = "\",\"" } { $2 = "*"; print }')
ts "$T/empty" -o "uat:esp_sa:$line" >"$T/wild.out" 2>/dev/null || true
got=$(field "$T/wild.out" "$frame" 3 | tr -d ':')
if [ "$got" = "$payload" ]; then
	ok "$name: a \"*\" source address matches"
else
	bad "$name: with a \"*\" source address: payload \"$got\""
fi

# 3. A wrong key must not decrypt: the checks above can fail.
mkdir -p "$T/bad/wireshark"
awk -F '","' 'BEGIN { OFS = "\",\"" } !/^#/ && !done {
	k = $6; c = substr(k, 3, 1); $6 = substr(k, 1, 2) (c == "0" ? "1" : "0") substr(k, 4)
	done = 1 } { print }' "$T/out/esp_sa" >"$T/bad/wireshark/esp_sa"
ts "$T/bad" >"$T/bad.out" 2>/dev/null
read -r frame name _ payload <"$T/out/expect"
got=$(field "$T/bad.out" "$frame" 3 | tr -d ':')
icv=$(field "$T/bad.out" "$frame" 2)
if [ "$got" != "$payload" ] && [ "$icv" != 1 ] && [ "$icv" != True ]; then
	ok "$name: a key with one wrong digit does not decrypt"
else
	bad "$name: a wrong key still decrypts (the test cannot fail)"
fi

# 4. ChaCha20-Poly1305: does this tshark know it?  (4.0 does not.)
mkdir -p "$T/chacha/wireshark"
sed 's/^# "/"/' "$T/out/esp_sa" >"$T/chacha/wireshark/esp_sa"
ts "$T/chacha" >"$T/chacha.out" 2>"$T/chacha.err" || true
if grep -q "invalid value: ChaCha20 with Poly1305" "$T/chacha.err"; then
	ok "this tshark has no ChaCha20-Poly1305 for ESP: its line rightly stays commented out"
else
	while read -r frame name commented payload; do
		[ "$commented" = 1 ] || continue
		got=$(field "$T/chacha.out" "$frame" 3 | tr -d ':')
		if [ "$got" = "$payload" ]; then
			ok "$name: this tshark decrypts ChaCha20-Poly1305 once the line is uncommented"
		else
			bad "$name: tshark accepts the ChaCha20-Poly1305 line but does not decrypt"
		fi
	done <"$T/out/expect"
fi

finished=1
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
