#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# autosec-keygen end to end: real key files, real zone lines, real errors.
# Run by `make check` with $top_builddir and $top_srcdir set.
set -euo pipefail

top_builddir=${top_builddir:-$(cd "$(dirname "$0")/.." && pwd)}
KEYGEN="$top_builddir/helper/autosec-keygen"
T=$(mktemp -d "${TMPDIR:-/tmp}/autosec-tools.XXXXXX")
pass=0
fail=0
finished=0
finish() {
	rm -rf "$T"
	if [ "$finished" != 1 ]; then
		echo "FAIL - tools.sh stopped early"
		echo "$pass passed, $((fail + 1)) failed"
		exit 1
	fi
}
trap finish EXIT

ok() { pass=$((pass + 1)); echo "ok   - $1"; }
bad() { fail=$((fail + 1)); echo "FAIL - $1"; }
check() { # check DESCRIPTION COMMAND... : passes when COMMAND succeeds
	local what=$1
	shift
	if "$@"; then ok "$what"; else bad "$what"; fi
}

if [ ! -x "$KEYGEN" ]; then
	echo "FAIL - $KEYGEN not built"
	echo "0 passed, 1 failed"
	exit 1
fi

# run NAME ARGS...: status in $T/NAME.rc, output in $T/NAME.out/.err
run() {
	local name=$1
	shift
	set +e
	"$KEYGEN" "$@" >"$T/$name.out" 2>"$T/$name.err"
	echo $? >"$T/$name.rc"
	set -e
}
rc() { cat "$T/$1.rc"; }
has() { grep -qF -- "$2" "$T/$1"; } # has FILE STRING

# The KEY line's base64 is the key field: \x0a "ip-autosec" \x00 then the
# record text exactly as in KEYFILE.rec (without its newline).
key_field_ok() { # key_field_ok OUT REC
	local b64
	b64=$(head -n 1 "$1" | awk '{print $8}')
	printf '\012ip-autosec\000' >"$T/want.bin"
	tr -d '\n' <"$2" >>"$T/want.bin"
	printf '%s' "$b64" | base64 -d >"$T/got.bin" 2>/dev/null || return 1
	cmp -s "$T/want.bin" "$T/got.bin"
}

# The TXT line's strings, each at most 255 bytes, join to v=autosec1;TEXT.
txt_ok() { # txt_ok OUT REC NAME
	local line strings s joined=""
	line=$(sed -n 2p "$1")
	case "$line" in "_autosec.$3 3600 IN TXT \""*) ;; *) return 1 ;; esac
	strings=$(printf '%s' "$line" | grep -o '"[^"]*"' | tr -d '"')
	while IFS= read -r s; do
		[ "${#s}" -le 255 ] || return 1
		joined="$joined$s"
	done <<<"$strings"
	[ "$joined" = "v=autosec1;$(tr -d '\n' <"$2")" ]
}

mode_of() { stat -c %a "$1" 2>/dev/null || true; }
quiet() { "$@" >/dev/null 2>&1; }
not_leaked() { # the private key's base64 body appears in no output
	local l
	while IFS= read -r l; do
		case "$l" in -----*) continue ;; esac
		if grep -qF -- "$l" "$T/$2.out" "$T/$2.err"; then return 1; fi
	done <"$1"
}

# ---- help and version
run help --help
check "--help exits 0" [ "$(rc help)" = 0 ]
check "--help prints usage" has help.out "usage: autosec-keygen"
run version --version
check "--version exits 0 and names the version" \
	bash -c '[ "$(cat "$1/version.rc")" = 0 ] && grep -q "[0-9]\.[0-9]" "$1/version.out"' _ "$T"

# ---- x25519 (the default)
run x -o "$T/x.pem" -n host.example.test.
check "x25519: exit 0" [ "$(rc x)" = 0 ]
check "x25519: private key mode 0600" [ "$(mode_of "$T/x.pem")" = 600 ]
check "x25519: PKCS#8 PEM" has x.pem "-----BEGIN PRIVATE KEY-----"
check "x25519: record file written" test -s "$T/x.pem.rec"
check "x25519: record file is one line" [ "$(wc -l <"$T/x.pem.rec")" = 1 ]
defaults="ENCR_AES_GCM_16-256,ENCR_CHACHA20_POLY1305,ENCR_AES_CBC-256;"
defaults="${defaults}AUTH_HMAC_SHA2_256_128,AUTH_HMAC_SHA2_512_256;CURVE25519,MODP3072;MCow"
check "x25519: default lists" has x.pem.rec "$defaults"
check "x25519: two zone lines" [ "$(wc -l <"$T/x.out")" = 2 ]
check "x25519: KEY line header" \
	bash -c 'head -n 1 "$1" | grep >/dev/null -c "^host\.example\.test\. 3600 IN KEY 512 4 253 [A-Za-z0-9+/=]*$"' \
	_ "$T/x.out"
check "x25519: KEY base64 = prefix name + record text" key_field_ok "$T/x.out" "$T/x.pem.rec"
check "x25519: TXT fallback line" txt_ok "$T/x.out" "$T/x.pem.rec" host.example.test.
check "x25519: summary on stderr" \
	bash -c 'grep -q "x25519 key, 256 bits, key tag [0-9]*, private key in .*x.pem" "$1"' _ "$T/x.err"
check "x25519: no private key bytes printed" not_leaked "$T/x.pem" x

# ---- no overwriting
sum_before=$(sha256sum "$T/x.pem" "$T/x.pem.rec" 2>&1 || true)
run again -o "$T/x.pem" -n host.example.test.
check "existing key: non-zero exit" [ "$(rc again)" != 0 ]
check "existing key: says it refuses to overwrite" has again.err "refusing to overwrite"
check "existing key: files unchanged" \
	[ "$(sha256sum "$T/x.pem" "$T/x.pem.rec" 2>&1 || true)" = "$sum_before" ]
: >"$T/only.pem.rec"
run recexists -o "$T/only.pem" -n host.example.test.
check "existing record file: refused, no key left behind" \
	bash -c '[ "$(cat "$1/recexists.rc")" != 0 ] && [ ! -e "$1/only.pem" ]' _ "$T"

# ---- --print re-prints the same lines
run print --print -o "$T/x.pem" -n host.example.test.
check "--print: exit 0" [ "$(rc print)" = 0 ]
check "--print: same lines as at generation" cmp -s "$T/x.out" "$T/print.out"
run printmissing --print -o "$T/nope.pem" -n host.example.test.
check "--print of a missing key names the file" \
	bash -c '[ "$(cat "$1/printmissing.rc")" != 0 ] && grep -q "nope.pem.rec" "$1/printmissing.err"' _ "$T"

# ---- RSA 2048
run rsa -t rsa -b 2048 -o "$T/r.pem" -n www.example.test. --ttl 3600 \
	--enc ENCR_AES_GCM_16-128,ENCR_AES_CBC-128 --hash AUTH_HMAC_SHA2_384_192 --dh MODP2048,X25519
check "rsa 2048: exit 0" [ "$(rc rsa)" = 0 ]
check "rsa 2048: private key mode 0600" [ "$(mode_of "$T/r.pem")" = 600 ]
check "rsa 2048: lists as given, canonical names" has r.pem.rec \
	"ENCR_AES_GCM_16-128,ENCR_AES_CBC-128;AUTH_HMAC_SHA2_384_192;MODP2048,CURVE25519;MII"
check "rsa 2048: KEY base64 = prefix name + record text" key_field_ok "$T/rsa.out" "$T/r.pem.rec"
check "rsa 2048: TXT split into strings of <= 255 bytes" \
	txt_ok "$T/rsa.out" "$T/r.pem.rec" www.example.test.
check "rsa 2048: TXT has several strings" \
	bash -c '[ "$(sed -n 2p "$1" | grep -o "\"[^\"]*\"" | wc -l)" -ge 2 ]' _ "$T/rsa.out"
check "rsa 2048: summary" has rsa.err "rsa key, 2048 bits, key tag"
check "rsa 2048: no private key bytes printed" not_leaked "$T/r.pem" rsa

# ---- a zone server accepts the lines (when NSD is installed)
if command -v nsd-checkzone >/dev/null 2>&1; then
	{
		printf '$ORIGIN example.test.\n$TTL 3600\n'
		printf '@ IN SOA ns hostmaster 1 3600 600 86400 60\n@ IN NS ns\nns IN A 127.0.0.1\n'
		cat "$T/x.out" "$T/rsa.out"
	} >"$T/zone"
	check "nsd-checkzone accepts the KEY and TXT lines" \
		quiet nsd-checkzone example.test. "$T/zone"
fi

# ---- bad arguments: non-zero exit, the message names the value, no files
badarg() { # badarg NAME EXPECTED-TEXT ARGS...
	local name=$1 text=$2
	shift 2
	run "$name" -o "$T/$name.pem" "$@"
	check "bad argument ($name): non-zero exit" [ "$(rc "$name")" != 0 ]
	check "bad argument ($name): message names \"$text\"" has "$name.err" "$text"
	check "bad argument ($name): no key file" [ ! -e "$T/$name.pem" ]
}
badarg bits1024 '"1024"' -t rsa -b 1024 -n a.example.
badarg bitsx '"12ab"' -t rsa -b 12ab -n a.example.
badarg bitsx25519 "-b 2048" -t x25519 -b 2048 -n a.example.
badarg type '"dsa"' -t dsa -n a.example.
badarg enc '"ENCR_FOO-128"' --enc ENCR_FOO-128 -n a.example.
badarg encsuffix '"ENCR_AES_CBC"' --enc ENCR_AES_CBC -n a.example.
badarg legacy "RFC 8221" --enc ENCR_3DES,ENCR_AES_GCM_16-256 -n a.example.
badarg md5 '"AUTH_HMAC_MD5_96"' --hash AUTH_HMAC_MD5_96 -n a.example.
badarg modp1536 "RFC 8247" --dh MODP1536 -n a.example.
badarg xcbc "not implemented" --hash AUTH_AES_XCBC_96 -n a.example.
badarg dh '"ECP_256"' --dh ECP_256 -n a.example.
badarg nohash "empty integrity list" --enc ENCR_AES_GCM_16-256 --hash "" -n a.example.
badarg noenc "empty encryption list" --enc " " -n a.example.
badarg cbcnone '"ENCR_AES_CBC-256"' --enc ENCR_AES_CBC-256 --hash NONE -n a.example.
badarg gcm192 '"ENCR_AES_GCM_16-192"' --enc ENCR_AES_GCM_16-192 -n a.example.
badarg dup "listed twice" --dh X25519,CURVE25519 -n a.example.
badarg ttl '"abc"' --ttl abc -n a.example.
badarg ttlbig '"4294967296"' --ttl 4294967296 -n a.example.
badarg name '"bad name.example."' -n "bad name.example."
badarg extra '"extra"' -n a.example. extra

run legacy_ok -o "$T/l.pem" -n a.example. --allow-legacy --enc ENCR_AES_GCM_16-256,ENCR_3DES
check "--allow-legacy: published with a warning" \
	bash -c '[ "$(cat "$1/legacy_ok.rc")" = 0 ] && grep -q "warning" "$1/legacy_ok.err" &&
		grep -q "ENCR_3DES" "$1/l.pem.rec"' _ "$T"
run aead_only -o "$T/a.pem" -n a.example. --enc ENCR_CHACHA20_POLY1305 --hash NONE
check "AEAD only with the hash list NONE" \
	bash -c '[ "$(cat "$1/aead_only.rc")" = 0 ] &&
		grep -q "^ENCR_CHACHA20_POLY1305;NONE;" "$1/a.pem.rec"' _ "$T"

finished=1
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
