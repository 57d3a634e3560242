#!/usr/bin/env bash
# README's first command: installs what is missing, builds, and shows AutoSEC
# between two hosts that were never configured for each other:
#   client --- router (IPv4 NAT, NSD) --- server
# in network namespaces made here and removed at the end.  The server's key
# is published in DNS; curl on the client fetches a file from the server's
# unmodified HTTP server; a capture on the router shows what crossed.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$(pwd)
bash demo/install-deps.sh
[ -x configure ] || autoreconf -fi >/dev/null 2>&1
mkdir -p build/demo
(cd build/demo && { [ -f Makefile ] || "$src/configure" -q; } && make -s -j"$(nproc)" >/dev/null)
bin=$src/build/demo

# shellcheck source=../tests/net/lib.sh
source "$src/tests/net/lib.sh"
work=$(mktemp -d /tmp/autosec-demo.XXXXXX)
cleanup() {
	net_capture_stop 2>/dev/null || true
	net_teardown
	rm -rf "$work"
}
trap cleanup EXIT
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '\033[2m$ %s\033[0m\n' "$*"; "$@"; }
net_require nsd:nsd dig:dnsutils nft:nftables dumpcap:tshark tshark:tshark curl:curl

say "1. Three hosts in network namespaces: client, router (IPv4 NAT, DNS), server"
net_setup "demo$$" >/dev/null
echo "   client 10.99.1.2 fd99:1::2 -- router 10.99.1.1 | 10.99.2.1 (NAT) -- server 10.99.2.2 fd99:2::2"
net_resolv "$NET_C" 10.99.1.1
net_resolv "$NET_S" 10.99.2.1

say "2. The server makes a key pair; its KEY record goes into DNS"
key=$work/server.key
rev4=$(net_rev 10.99.2.2)
rev6=$(net_rev fd99:2::2)
printf '\033[2m$ autosec-keygen -t x25519 -o server.key -n %s\033[0m\n' "$rev4"
"$bin/helper/autosec-keygen" -t x25519 -o "$key" -n "$rev4" > "$work/lines4"
"$bin/helper/autosec-keygen" --print -o "$key" -n "$rev6" > "$work/lines6" 2>/dev/null
echo "   record text (enc;hash;dh;public key): $(cat "$key.rec")"
zone() { # ORIGIN LINES-FILE -> a zone file on stdout
	echo "\$ORIGIN $1"
	echo "\$TTL 300"
	echo "@ IN SOA ns.demo.test. hostmaster.demo.test. 1 3600 600 86400 60"
	echo "@ IN NS ns.demo.test."
	cat "$2"
}
zone 2.99.10.in-addr.arpa. "$work/lines4" > "$work/rev4.zone"
zone 2.0.0.0.9.9.d.f.ip6.arpa. "$work/lines6" > "$work/rev6.zone"
net_nsd_start "$work" "$work/rev4.zone:2.99.10.in-addr.arpa." "$work/rev6.zone:2.0.0.0.9.9.d.f.ip6.arpa."
nsd_up() { ip netns exec "$NET_C" dig +short +time=1 +tries=1 @10.99.1.1 2.99.10.in-addr.arpa. SOA | grep >/dev/null -c hostmaster; }
net_wait_for 10 nsd_up || net_die "NSD did not answer: $(cat "$work/nsd.out" "$work/nsd.log" 2>/dev/null)"
echo "   the client asks DNS for the server's key, as the helper will:"
run ip netns exec "$NET_C" dig +noall +answer +multi "$rev4" KEY | sed 's/^/   /'
run ip netns exec "$NET_C" "$bin/helper/autosec-ctl" lookup 10.99.2.2 --server 10.99.1.1 |
	sed 's/^/   /'

say "3. autosec-helper on both hosts (nothing about the other in either)"
net_bg "$NET_S" "$work/server.log" "$bin/helper/autosec-helper" -c /dev/null --key "$key" \
	--control "$work/server.sock" --log-level info
net_bg "$NET_C" "$work/client.log" "$bin/helper/autosec-helper" -c /dev/null \
	--dns-server 10.99.1.1 --control "$work/client.sock" --log-level info --keylog "$work/keys"
net_wait_for 10 ip netns exec "$NET_S" "$bin/helper/autosec-ctl" ping --control "$work/server.sock" ||
	net_die "server helper did not start: $(cat "$work/server.log")"
net_wait_for 10 ip netns exec "$NET_C" "$bin/helper/autosec-ctl" ping --control "$work/client.sock" ||
	net_die "client helper did not start: $(cat "$work/client.log")"
echo "   steer the client's traffic for the server into the helper (the LD_PRELOAD shim will do this per program):"
run ip -n "$NET_C" route add 10.99.2.2/32 dev autosec0 table 4243
run ip -n "$NET_C" route add fd99:2::2/128 dev autosec0 table 4243

say "4. curl on the client fetches 10 MiB from python3 -m http.server on the server"
mkdir -p "$work/www"
head -c $((10 * 1024 * 1024)) /dev/urandom > "$work/www/file"
net_bg "$NET_S" "$work/http.log" python3 -m http.server --bind :: --directory "$work/www" 8080
net_wait_for 10 ip netns exec "$NET_S" sh -c 'exec 3<>/dev/tcp/127.0.0.1/8080' || true
net_capture_start "$NET_R" srv0 "$work/router.pcap"
for url in http://10.99.2.2:8080/file "http://[fd99:2::2]:8080/file"; do
	run ip netns exec "$NET_C" curl -sS --max-time 60 -o "$work/got" "$url"
	if cmp -s "$work/got" "$work/www/file"; then
		echo "   $url: $(stat -c %s "$work/got") bytes, sha256 matches"
	else
		echo "   $url: the file differs!"
	fi
done
sleep 0.5
net_capture_stop

say "5. autosec-ctl show on the client, then on the server"
ip netns exec "$NET_C" "$bin/helper/autosec-ctl" show --control "$work/client.sock" | sed 's/^/   /' | head -16
echo
ip netns exec "$NET_S" "$bin/helper/autosec-ctl" show --control "$work/server.sock" | sed 's/^/   /' | head -12
echo "   helper logs (client, then server):"
grep -E "INIT|SA up|NAT" "$work/client.log" "$work/server.log" | sed "s|$work/||; s/^/   /" | cut -c1-160

say "6. What crossed the router (capture on its server-side link)"
tsh() { tshark -r "$work/router.pcap" -Y "$1" 2>/dev/null | wc -l; }
marker="00:00:00:00:00:00:00:00:00:00:00:00"
echo "   AutoSEC INIT over IPv4 (UDP 4500, marker, 01 01):  $(tsh "udp.port==4500 && udp.payload[0:14]==$marker:01:01")"
echo "   AutoSEC REPLY over IPv4:                           $(tsh "udp.port==4500 && udp.payload[0:14]==$marker:01:02")"
echo "   AutoSEC messages over IPv6 (next header 253):      $(tsh "ipv6.nxt==253")"
echo "   ESP packets (UDP 4500 and IPv6 next header 50):    $(tsh "esp")"
echo "   packets in clear to or from port 8080:             $(tsh "tcp.port==8080")"
sample=$(head -c 4096 "$work/www/file" | tail -c 32 | od -An -tx1 | tr -d ' \n')
if grep -c -F "GET /file" "$work/router.pcap" >/dev/null ||
	python3 -c "import sys; sys.exit(0 if bytes.fromhex('$sample') in open('$work/router.pcap','rb').read() else 1)"; then
	echo "   bytes of the request or the file visible in the capture: YES (bug!)"
else
	echo "   bytes of the request or the file visible in the capture: none"
fi
mkdir -p "$work/xdg/wireshark"
grep -v '^#' "$work/keys" > "$work/xdg/wireshark/esp_sa" || true
printf 'esp.enable_encryption_decode: TRUE\n' > "$work/xdg/wireshark/preferences"
echo "   tshark, given the client's exported keys, decrypts the ESP:"
XDG_CONFIG_HOME=$work/xdg tshark -r "$work/router.pcap" -Y http.request 2>/dev/null | sed 's/^ */   /' | cut -c1-120

say "7. Inside one first datagram (both sides in one process, narrated)"
ip netns exec "$NET_C" "$bin/demo/autosec-first-datagram" 10.99.2.2 --server 10.99.1.1 --key "$key"
say "Done: namespaces, routes and processes are removed.  Tests: sudo bash tests/run-all.sh"
