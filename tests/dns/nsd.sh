#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# autosec-ctl lookup against a real authoritative server: NSD on 127.0.0.1,
# serving a zone whose AutoSEC records come from autosec-keygen.  BIND's dig
# is the independent judge that the KEY records are well formed.
#
# Needs nsd and dig (Debian: nsd, dnsutils); fails, never skips, without them.
# Run by `make check` (top_builddir set) or by hand:
#   top_builddir=/path/to/build bash tests/dns/nsd.sh
# (VERBOSE=1 also shows every autosec-ctl output)
set -euo pipefail

# Bound the whole run: re-run this script under timeout(1) once.
if [ -z "${AS_NSD_SH_BOUNDED:-}" ]; then
	export AS_NSD_SH_BOUNDED=1
	exec timeout -k 5 180 bash "$0" "$@"
fi

here=$(cd "$(dirname "$0")" && pwd)
top_builddir=${top_builddir:-$(cd "$here/../.." && pwd)}
ctl=$top_builddir/helper/autosec-ctl
keygen=$top_builddir/helper/autosec-keygen
zone=autosec.test

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "PASS: $*"; }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
die() { echo "FAIL: $*" >&2; echo "0 passed, 1 failed"; exit 1; }

find_prog() {
	local p
	p=$(PATH="$PATH:/usr/sbin:/sbin:/usr/local/sbin" command -v "$1" 2>/dev/null) || return 1
	echo "$p"
}
nsd=$(find_prog nsd) || die "nsd not found (apt-get install nsd)"
dig=$(find_prog dig) || die "dig not found (apt-get install dnsutils)"
py=$(find_prog python3) || die "python3 not found"
[ -x "$ctl" ] || die "$ctl not built"
[ -x "$keygen" ] || die "$keygen not built"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/autosec-nsd.XXXXXX")
nsd_pid=
silent_pid=
cleanup() {
	[ -z "$silent_pid" ] || kill "$silent_pid" 2>/dev/null || true
	if [ -n "$nsd_pid" ]; then
		kill "$nsd_pid" 2>/dev/null || true
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 "$nsd_pid" 2>/dev/null || break
			sleep 0.2
		done
		kill -9 "$nsd_pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# ---- keys and zone

gen() { # gen NAME TTL KEYGEN-ARGS...: stdout -> $tmp/NAME.lines, stderr -> $tmp/NAME.info
	local name=$1 ttl=$2
	shift 2
	"$keygen" "$@" -o "$tmp/$name.key" -n "$name.$zone." --ttl "$ttl" \
		>"$tmp/$name.lines" 2>"$tmp/$name.info" ||
		die "autosec-keygen for $name failed: $(cat "$tmp/$name.info")"
	[ -s "$tmp/$name.key.rec" ] || die "autosec-keygen wrote no $name.key.rec"
}
gen x 1234 -t x25519
gen r 2345 -t rsa -b 2048
gen big 3456 -t rsa -b 4096
gen rot 3456 -t rsa -b 4096
gen t 4567 -t x25519

keytag() { sed -n 's/.*key tag \([0-9]*\).*/\1/p' "$tmp/$1.info"; }
keyline() { grep " IN KEY " "$tmp/$1.lines"; }
txtline() { grep " IN TXT " "$tmp/$1.lines"; }

# A normal RSA/SHA-256 key blob (the DNSKEY example of RFC 4034 2.3), as a
# KEY of algorithm 8: a record that is not AutoSEC's.
alien_key='AQPSKmynfzW4kyBv015MUG2DeIQ3Cbl+BBZH4b/0PY1kxkmvHjcZc8nokfzj31GajIQKY+5CptLr3buXA10hWqTkF7H6RfoRqXQeogmMHfpftf6zMv1LyBUgia7za6ZEzOJBOztyvhjL742iU/TpPSEDhm2SNKLijfUppn1UaNvv4w=='

# An AutoSEC record written by hand with legacy (refused) algorithms and a
# name nobody knows, in front of usable ones, for x's public key.
x_spki=$(sed 's/.*;//' "$tmp/x.key.rec")
legacy_text="ENCR_3DES,ENCR_FOO-128,ENCR_AES_CBC-128;AUTH_HMAC_MD5_96,AUTH_HMAC_SHA2_256_128;MODP1536,CURVE25519;$x_spki"
legacy_b64=$(printf '\x0aip-autosec\x00%s' "$legacy_text" | base64 -w0)

{
	echo "\$ORIGIN $zone."
	echo "\$TTL 3600"
	echo "@ IN SOA ns.$zone. hostmaster.$zone. 1 3600 600 86400 300"
	echo "@ IN NS ns.$zone."
	echo "ns IN A 127.0.0.1"
	keyline x
	keyline r
	keyline big
	keyline rot                # two keys (rotation): more than 1232 octets
	keyline big | sed "s/^big\.$zone\. /rot.$zone. /"
	txtline t                  # TXT only: found through the fallback
	echo "t IN A 127.0.0.1"
	echo "alien 600 IN KEY 512 4 8 $alien_key"
	echo "legacy 600 IN KEY 512 4 253 $legacy_b64"
	echo "plain IN A 127.0.0.1"  # exists, no AutoSEC record
	                             # nx.$zone does not exist at all
} >"$tmp/$zone.zone"

# ---- start nsd on a free port

# IPv6 loopback too when the host has it (the [ADDR]:PORT server form)
have_v6=
v6_line=
do_ip6=no
if [ -r /proc/net/if_inet6 ] && grep -q '^0\{31\}1 ' /proc/net/if_inet6; then
	have_v6=1
	do_ip6=yes
fi

start_nsd() {
	local port=$1
	[ -z "$have_v6" ] || v6_line="	ip-address: ::1@$port"
	cat >"$tmp/nsd.conf" <<EOF
server:
	ip-address: 127.0.0.1@$port
$v6_line
	do-ip6: $do_ip6
	zonesdir: "$tmp"
	pidfile: "$tmp/nsd.pid"
	xfrdfile: "$tmp/xfrd.state"
	zonelistfile: "$tmp/zone.list"
	database: ""
	username: ""
	chroot: ""
	logfile: "$tmp/nsd.log"
	server-count: 1
	verbosity: 1
remote-control:
	control-enable: no
zone:
	name: "$zone"
	zonefile: "$zone.zone"
EOF
	: >"$tmp/nsd.log"
	"$nsd" -d -c "$tmp/nsd.conf" >>"$tmp/nsd.log" 2>&1 &
	nsd_pid=$!
}

answers_soa() {
	"$dig" +short +time=1 +tries=1 @127.0.0.1 -p "$1" "$zone" SOA 2>/dev/null | grep >/dev/null -c hostmaster
}

port=
for _ in 1 2 3 4 5; do
	p=$((20000 + RANDOM % 20000))
	start_nsd "$p"
	up=
	deadline=$((SECONDS + 10))
	while [ $SECONDS -lt $deadline ]; do
		if ! kill -0 "$nsd_pid" 2>/dev/null; then
			break # exited: port busy or bad config; the log says which
		fi
		if answers_soa "$p"; then
			up=1
			break
		fi
		sleep 0.2
	done
	if [ -n "$up" ]; then
		port=$p
		break
	fi
	kill "$nsd_pid" 2>/dev/null || true
	wait "$nsd_pid" 2>/dev/null || true
	nsd_pid=
	grep -qi "in use" "$tmp/nsd.log" || { cat "$tmp/nsd.log" >&2; die "nsd did not start"; }
done
[ -n "$port" ] || die "no free port for nsd after 5 tries"
ok "nsd serves $zone on 127.0.0.1:$port"
server=127.0.0.1:$port

# ---- dig: the records are valid KEY records for standard tools

b64_of_keyline() { awk '{ for (i = 8; i <= NF; i++) printf "%s", $i; print "" }'; }

for n in x r big; do
	out=$("$dig" +time=2 +tries=1 @127.0.0.1 -p "$port" "$n.$zone" KEY 2>&1 || true)
	short=$("$dig" +short +time=2 +tries=1 @127.0.0.1 -p "$port" "$n.$zone" KEY 2>&1 || true)
	want=$(keyline $n | b64_of_keyline)
	got=$(echo "$short" | awk '$1 == 512 && $2 == 4 && $3 == 253 { for (i = 4; i <= NF; i++) printf "%s", $i; print "" }')
	if echo "$out" | grep >/dev/null -ci "bad label type\|formerr\|malformed"; then
		bad "dig rejects the KEY of $n.$zone: $(echo "$out" | grep -i 'bad\|formerr\|malformed' | head -1)"
	elif [ -n "$want" ] && [ "$got" = "$want" ]; then
		ok "dig shows KEY 512 4 253 of $n.$zone equal to autosec-keygen's"
	else
		bad "dig KEY $n.$zone: got '${short:0:120}', want 512 4 253 ${want:0:60}..."
	fi
done

# ---- autosec-ctl lookup

run_ctl() { # sets rc, so (stdout), se (stderr)
	set +e
	"$ctl" lookup "$@" >"$tmp/so" 2>"$tmp/se"
	rc=$?
	set -e
	so=$(cat "$tmp/so")
	se=$(cat "$tmp/se")
	if [ -n "${VERBOSE:-}" ]; then
		echo "\$ autosec-ctl lookup $* -> exit $rc"
		cat "$tmp/so" "$tmp/se"
	fi
}

check_found() { # NAME KEYTYPE-TEXT TTL SOURCE-TEXT
	local n=$1 kt=$2 ttl=$3 src=$4 tag
	tag=$(keytag "$n")
	run_ctl "$n.$zone" --server "$server"
	if [ $rc -ne 0 ]; then
		bad "lookup $n.$zone: exit $rc: $se"
		return
	fi
	local miss=
	echo "$so" | grep >/dev/null -c "$src" || miss="$miss source"
	echo "$so" | grep >/dev/null -c "key: *$kt.*key tag $tag\$" || miss="$miss key-type/tag($kt,$tag)"
	echo "$so" | grep >/dev/null -c "TTL: *$ttl s" || miss="$miss ttl($ttl)"
	echo "$so" | grep >/dev/null -c "DNSSEC (AD): no" || miss="$miss AD"
	echo "$so" | grep >/dev/null -c "ENCR_AES_GCM_16-256 *usable" || miss="$miss enc-list"
	echo "$so" | grep >/dev/null -c "this host would use: ENCR_AES_GCM_16-256, no separate integrity (AEAD), CURVE25519" ||
		miss="$miss choice"
	if [ -z "$miss" ]; then
		ok "lookup $n.$zone: exit 0, $src, $kt, key tag $tag, TTL $ttl"
	else
		bad "lookup $n.$zone: output lacks:$miss"
		echo "$so" | sed 's/^/    /'
	fi
}

check_found x "X25519, 256 bits" 1234 "KEY at x.$zone"
check_found r "RSA, 2048 bits" 2345 "KEY at r.$zone"
check_found big "RSA, 4096 bits" 3456 "KEY at big.$zone"
check_found t "X25519, 256 bits" 4567 "TXT at _autosec.t.$zone"

# Two RSA-4096 keys do not fit the EDNS buffer (1232) the lookup offers:
# the UDP answer is truncated and c-ares must ask again over TCP.
flags=$("$dig" +ignore +notcp +bufsize=1232 +time=2 +tries=1 @127.0.0.1 -p "$port" \
	"rot.$zone" KEY 2>&1 | sed -n 's/.*;; flags: \([a-z ]*\);.*/\1/p')
run_ctl "rot.$zone" --server "$server"
if ! echo " $flags " | grep >/dev/null -c " tc "; then
	bad "rot.$zone: UDP answer not truncated (flags '$flags'): the TCP path is not tested"
elif [ $rc -eq 0 ] && echo "$so" | grep >/dev/null -c "2 AutoSEC records, 2 usable" &&
	echo "$so" | grep >/dev/null -c "key tag $(keytag rot)\$" && echo "$so" | grep >/dev/null -c "key tag $(keytag big)\$"; then
	ok "lookup rot.$zone: UDP answer truncated, both keys found over TCP"
else
	bad "lookup rot.$zone: exit $rc: $so $se"
fi

run_ctl "legacy.$zone" --server "$server"
miss=
echo "$so" | grep >/dev/null -c "ENCR_3DES *refused: 64-bit block" || miss="$miss 3DES-refused"
echo "$so" | grep >/dev/null -c "AUTH_HMAC_MD5_96 *refused: .*RFC 8221" || miss="$miss MD5-refused"
echo "$so" | grep >/dev/null -c "MODP1536 *refused" || miss="$miss MODP1536-refused"
echo "$so" | grep >/dev/null -c "unknown names (ignored): ENCR_FOO-128" || miss="$miss unknown-name"
echo "$so" | grep >/dev/null -c "this host would use: ENCR_AES_CBC-128, AUTH_HMAC_SHA2_256_128, CURVE25519" ||
	miss="$miss choice"
if [ $rc -eq 0 ] && [ -z "$miss" ]; then
	ok "lookup legacy.$zone: refused and unknown entries shown, CBC+HMAC chosen"
else
	bad "lookup legacy.$zone: exit $rc, output lacks:$miss"
	echo "$so$se" | sed 's/^/    /'
fi

run_ctl "alien.$zone" --server "$server"
if [ $rc -eq 1 ] && echo "$se" | grep >/dev/null -c "algorithm 8" && echo "$se" | grep >/dev/null -ci "RSASHA256"; then
	ok "lookup alien.$zone: exit 1, reason names the algorithm: $se"
else
	bad "lookup alien.$zone: exit $rc, stderr: $se"
fi

run_ctl "plain.$zone" --server "$server"
if [ $rc -eq 1 ] && echo "$se" | grep >/dev/null -c "no KEY record at plain.$zone"; then
	ok "lookup plain.$zone (no record): exit 1: $se"
else
	bad "lookup plain.$zone: exit $rc, stderr: $se"
fi

run_ctl "nx.$zone" --server "$server"
if [ $rc -eq 1 ] && echo "$se" | grep >/dev/null -c "nx.$zone does not exist (NXDOMAIN)"; then
	ok "lookup nx.$zone (no such name): exit 1: $se"
else
	bad "lookup nx.$zone: exit $rc, stderr: $se"
fi

# ---- --json

for n in x t alien nx; do
	run_ctl "$n.$zone" --server "$server" --json
	if echo "$so" | "$py" -m json.tool >/dev/null 2>&1; then
		ok "lookup $n.$zone --json parses with python3 -m json.tool (exit $rc)"
	else
		bad "lookup $n.$zone --json is not JSON: ${so:0:200}"
	fi
done
run_ctl "x.$zone" --server "$server" --json
got=$(echo "$so" | "$py" -c 'import json,sys; o=json.load(sys.stdin); r=o["records"][0]; print(o["usable"], r["source"], r["key_type"], r["key_tag"], r["ttl"], r["choice"]["encryption"])' 2>&1 || true)
want="True KEY X25519 $(keytag x) 1234 ENCR_AES_GCM_16-256"
if [ "$got" = "$want" ]; then
	ok "lookup x.$zone --json fields: $got"
else
	bad "lookup x.$zone --json fields: got '$got', want '$want'"
fi

# ---- other server forms, and servers that do not answer

if [ -n "$have_v6" ]; then
	run_ctl "x.$zone" --server "[::1]:$port"
	if [ $rc -eq 0 ] && echo "$so" | grep >/dev/null -c "key tag $(keytag x)\$"; then
		ok "lookup over IPv6: --server [::1]:$port"
	else
		bad "lookup over IPv6 [::1]:$port: exit $rc: $se"
	fi
fi
# the first server in the list is silent (nothing listens), the second answers
run_ctl "x.$zone" --server "127.0.0.1:$((port + 1 > 65535 ? port - 1 : port + 1)),$server" \
	--timeout 300
if [ $rc -eq 0 ]; then
	ok "server list: the next server answers after the first fails"
else
	bad "server list: exit $rc: $se"
fi
# a UDP socket that never answers: bounded by --timeout (300 + 600 ms)
"$py" -c 'import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1], flush=True)
time.sleep(20)' >"$tmp/silent.port" &
silent_pid=$!
for _ in $(seq 50); do [ -s "$tmp/silent.port" ] && break; sleep 0.1; done
silent_port=$(cat "$tmp/silent.port")
t0=$SECONDS
run_ctl "x.$zone" --server "127.0.0.1:$silent_port" --timeout 300
t1=$SECONDS
kill "$silent_pid" 2>/dev/null || true
wait "$silent_pid" 2>/dev/null || true
silent_pid=
if [ $rc -eq 1 ] && echo "$se" | grep >/dev/null -c "no answer for KEY x.$zone within" && [ $((t1 - t0)) -le 3 ]; then
	ok "silent server: exit 1 after $((t1 - t0)) s: $se"
else
	bad "silent server: exit $rc after $((t1 - t0)) s: $se"
fi

# ---- usage errors

run_ctl "x.$zone" --server "$server" --bogus
if [ $rc -eq 2 ] && echo "$se" | grep >/dev/null -c '"--bogus"'; then
	ok "unknown option: exit 2, quoted"
else
	bad "unknown option: exit $rc, stderr: $se"
fi
run_ctl "bad name.$zone" --server "$server"
if [ $rc -eq 2 ] && echo "$se" | grep >/dev/null -c '"bad name.autosec.test"'; then
	ok "invalid name: exit 2, quoted"
else
	bad "invalid name: exit $rc, stderr: $se"
fi
run_ctl "x.$zone" --server "127.0.0.1:$port:1"
if [ $rc -eq 2 ]; then
	ok "invalid --server: exit 2: $se"
else
	bad "invalid --server: exit $rc, stderr: $se"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
