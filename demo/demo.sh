#!/usr/bin/env bash
# README's first command: installs what is missing, builds, and shows AutoSEC
# step by step: two server keys (X25519 and RSA), their DNS records served by
# a real NSD on 127.0.0.1, dig and autosec-ctl reading them back, and one
# first datagram per key built, opened and answered.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$(pwd)
bash demo/install-deps.sh
[ -x configure ] || autoreconf -fi >/dev/null 2>&1
mkdir -p build/demo
(cd build/demo && { [ -f Makefile ] || "$src/configure" -q; } && make -s -j"$(nproc)" >/dev/null)
bin=$src/build/demo

work=$(mktemp -d /tmp/autosec-demo.XXXXXX)
source "$src/tests/lib/nsd.sh"
cleanup() { nsd_stop; rm -rf "$work"; }
trap cleanup EXIT
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

zone=demo.test.
say "Server keys: autosec-keygen makes each key pair and prints its DNS records"
"$bin/helper/autosec-keygen" -t x25519 -o "$work/x25519.key" -n "web.$zone" > "$work/x25519.zone"
"$bin/helper/autosec-keygen" -t rsa -b 3072 -o "$work/rsa.key" -n "mail.$zone" > "$work/rsa.zone"
ls -l "$work"/*.key | awk '{print "   " $1, $NF}'
echo "   record text of web.$zone (enc;hash;dh;public key):"
fold -w 100 "$work/x25519.key.rec" | sed 's/^/     /'
echo "   zone lines printed for the two names:"
cut -c1-110 "$work/x25519.zone" "$work/rsa.zone" | sed 's/$/.../; s/^/     /'

say "DNS: a real NSD serves zone $zone on 127.0.0.1"
{
	echo "\$ORIGIN $zone"
	echo "\$TTL 300"
	echo "@ IN SOA ns.$zone hostmaster.$zone 1 3600 600 86400 60"
	echo "@ IN NS ns.$zone"
	echo "ns IN A 127.0.0.1"
	cat "$work/x25519.zone" "$work/rsa.zone"
} > "$work/zone"
nsd_start "$work" "$zone" "$work/zone"
echo "   nsd pid $NSD_PID, port $NSD_PORT"

say "dig shows the KEY record (algorithm 253 with the ip-autosec. name prefix)"
dig +noall +answer +multi @127.0.0.1 -p "$NSD_PORT" "web.$zone" KEY | sed 's/^/   /'

for name in "web.$zone" "mail.$zone"; do
	say "autosec-ctl lookup $name"
	"$bin/helper/autosec-ctl" lookup "$name" --server "127.0.0.1:$NSD_PORT" | sed 's/^/   /'
done

say "First datagram to web.$zone (X25519: HPKE)"
"$bin/demo/autosec-first-datagram" "web.$zone" --server "127.0.0.1:$NSD_PORT" --key "$work/x25519.key"
say "First datagram to mail.$zone (RSA-3072: RSA-OAEP)"
"$bin/demo/autosec-first-datagram" "mail.$zone" --server "127.0.0.1:$NSD_PORT" --key "$work/rsa.key" \
	--message "EHLO client.demo.test"
say "Done. The wire format is docs/PROTOCOL.md; the tests: sudo bash tests/run-all.sh"
