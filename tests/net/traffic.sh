#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# The network test: real hosts in network namespaces, neither configured for
# the other, and a capture on the router as the judge.
#
#   client --- router (NAT for IPv4, NSD on :53) --- server
#
# The client's autosec-helper finds each server's key in DNS (KEY at the
# reverse name of the address), and the first packet of each conversation
# leaves the client as an AutoSEC INIT, everything after it as ESP.  curl,
# socat and python3's http.server are the applications.  The capture must
# show no application byte in clear, and tshark (Wireshark's ESP dissector,
# fed with the helpers' --keylog lines) must decrypt the ESP.  Two failure
# scenarios follow the traffic: the server helper restarts (the client's next
# ESP draws INVALID_SPI and a re-key), and the router drops the REPLYs for a
# while (the INIT is retransmitted, the responder still keeps one SA).
#
#   bash tests/net/traffic.sh                 the scenario (needs autosec-helper)
#   bash tests/net/traffic.sh --control-plain negative control: no helpers, all
#                                             traffic in clear; passes when the
#                                             judge DOES see the cleartext
#   bash tests/net/traffic.sh --self-test     positive control of the judge and
#                                             tshark: a synthetic capture made
#                                             with known keys (no namespaces)
# Environment: top_builddir (where helper/autosec-* are built), KEEP=1 keeps
# the temporary directory (captures, logs, zones) and prints its path.
# Needs root; fails (never skips) when something is missing.
set -uo pipefail

# Bound the whole run: re-run this script under timeout(1) once.
if [ -z "${AS_NET_TRAFFIC_BOUNDED:-}" ]; then
	export AS_NET_TRAFFIC_BOUNDED=1
	exec timeout -k 15 "${AS_NET_TIMEOUT:-600}" bash "$0" "$@"
fi

here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$here/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
# shellcheck source=tests/net/lib.sh
. "$here/lib.sh"

mode=full
for a in "$@"; do
	case $a in
	--control-plain) mode=control ;;
	--self-test) mode=selftest ;;
	-h | --help)
		sed -n '2,/^set /p' "$0" | sed '$d; s/^# \{0,1\}//'
		exit 0
		;;
	*)
		echo "usage: $0 [--control-plain | --self-test]" >&2
		exit 2
		;;
	esac
done

helper=$top_builddir/helper/autosec-helper
ctl=$top_builddir/helper/autosec-ctl
keygen=$top_builddir/helper/autosec-keygen
PY=$NET_PY
ZONE=autosec.test
TABLE_PEERS=4243
SERVERS4=(10.99.2.2 10.99.2.3 10.99.2.4)
SERVERS6=(fd99:2::2 fd99:2::3 fd99:2::4)
NOKEY4=10.99.2.5
NOKEY6=fd99:2::5

finished=
tmp=
C_HELPER_PID=
S_HELPER_PID=

dump_state() {
	local f
	echo "---- diagnostics"
	for f in "$tmp"/helper-*.log; do
		[ -e "$f" ] || continue
		echo "---- tail of $(basename "$f")"
		tail -n 40 "$f" | sed 's/^/    /'
	done
	if [ -n "$C_HELPER_PID" ] && kill -0 "$C_HELPER_PID" 2>/dev/null; then
		echo "---- autosec-ctl show (client)"
		timeout 10 "$ctl" show --control "$tmp/client.sock" 2>&1 | sed 's/^/    /'
	fi
	if [ -n "$S_HELPER_PID" ] && kill -0 "$S_HELPER_PID" 2>/dev/null; then
		echo "---- autosec-ctl show (server)"
		timeout 10 "$ctl" show --control "$tmp/server.sock" 2>&1 | sed 's/^/    /'
	fi
	for ns in "$NET_C" "$NET_S"; do
		if [ -z "$ns" ] || ! ip netns list | grep >/dev/null -c "^$ns"; then continue; fi
		echo "---- policy routing in $ns"
		{ ip -n "$ns" rule show; ip -n "$ns" -6 rule show
		  ip -n "$ns" route show table "$TABLE_PEERS"; ip -n "$ns" -6 route show table "$TABLE_PEERS"
		} 2>&1 | sed 's/^/    /'
	done
	for f in "$tmp"/nsd.log "$tmp"/http.log; do
		[ -s "$f" ] && { echo "---- tail of $(basename "$f")"; tail -n 10 "$f" | sed 's/^/    /'; }
	done
	return 0
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if [ -z "$finished" ]; then
		if [ -z "$NET_DIED" ]; then
			echo "FAIL: traffic.sh stopped early (exit $rc, at ${SECONDS}s)"
			NET_FAIL=$((NET_FAIL + 1))
		fi
		[ -z "$tmp" ] || dump_state
	fi
	net_capture_stop
	net_teardown
	if [ -n "$tmp" ]; then
		if [ -n "${KEEP:-}" ]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
	fi
	if [ -z "$finished" ]; then
		echo "$NET_PASS passed, $NET_FAIL failed"
		exit 1
	fi
}
trap cleanup EXIT
trap 'echo "interrupted"; exit 1' INT TERM

# ---------------------------------------------------------------- judge
# write_spec NAME PCAP CLIENT4 DNS4 DNS6: the judge's input for one capture
write_spec() {
	"$PY" - "$@" "$mode" "$required_at" "$tmp" >"$tmp/spec-$1.json" <<'PY'
import json, sys, os, glob
name, pcap, c4, d4, d6, mode, req, tmp = sys.argv[1:9]
secrets = []
for line in open(os.path.join(tmp, "secrets.tsv")).read().splitlines():
    label, text = line.split("\t", 1)
    secrets.append([label, {"hex": text[4:]} if text.startswith("hex:") else text])
spec = dict(name=name, pcap=pcap, clients=[c4, "fd99:1::2"],
            keyed=["10.99.2.2", "10.99.2.3", "10.99.2.4", "fd99:2::2", "fd99:2::3", "fd99:2::4"],
            unkeyed=["10.99.2.5", "fd99:2::5"], app_ports=[8080, 7000],
            dns_servers=[d4, d6], secrets=secrets,
            expect_clear_unkeyed=["TCP/IPv4", "TCP/IPv6", "UDP/IPv4", "UDP/IPv6"])
if req:
    spec["required_at"] = float(req)
if mode == "full":
    spec["keylogs"] = sorted(glob.glob(os.path.join(tmp, "*.keylog")))
json.dump(spec, sys.stdout)
PY
}

# In the control mode these checks must FAIL in the judge: cleartext was seen.
inverted=" raw-secrets no-clear-app first-init reply esp "
judge() { # NAME: run the judge on NAME.pcap, count its verdicts
	local name=$1 kind id res text
	"$PY" "$tmp/judge.py" "$tmp/spec-$name.json" >"$tmp/judge-$name.out" 2>&1 ||
		net_bad "judge of $name.pcap crashed: $(tail -5 "$tmp/judge-$name.out")"
	while IFS= read -r line; do
		kind=${line%% *}
		case $kind in
		CHECK)
			read -r _ id res text <<<"$line"
			if [ $mode = control ] && [[ $inverted == *" $id "* ]]; then
				if [ "$res" = bad ]; then
					net_ok "control: cleartext WAS seen, the judge flags it: $text"
				else
					net_bad "control: the judge missed the cleartext: $text"
				fi
			elif [ "$res" = ok ]; then
				net_ok "$text"
			else
				net_bad "$text"
			fi
			;;
		INFO) echo "   ${line#INFO }" ;;
		FLOW) ;;
		*) echo "   judge: $line" ;;
		esac
	done <"$tmp/judge-$name.out"
}

hex_lines() { # tshark's data.data fields -> the octets, one payload a line
	"$PY" -c 'import sys
for h in sys.stdin.read().replace(":", "").replace(",", "\n").split():
    print(bytes.fromhex(h).decode("latin-1"))'
}
tsh() { # tshark with the temporary profile; stderr in tshark.err without the root warning
	XDG_CONFIG_HOME=$tmp/xdg HOME=$tmp timeout 120 tshark -n -r "$@" 2>"$tmp/tshark.err.all"
	local rc=$?
	grep -v 'Running as user "root"' "$tmp/tshark.err.all" >"$tmp/tshark.err"
	return $rc
}

# judge_all: srv.pcap and cli.pcap in $tmp, the keylogs and SECRETS -> the
# PASS/FAIL lines of the judge and of tshark.
judge_all() {
	echo "   srv.pcap: $(stat -c %s "$tmp/srv.pcap" 2>/dev/null || echo 0) octets," \
		"cli.pcap: $(stat -c %s "$tmp/cli.pcap" 2>/dev/null || echo 0) octets"
	net_judge_write "$tmp/judge.py"
	printf '%s\n' "${SECRETS[@]}" >"$tmp/secrets.tsv"
	write_spec srv "$tmp/srv.pcap" 10.99.2.1 10.99.2.1 fd99:2::1
	write_spec cli "$tmp/cli.pcap" 10.99.1.2 10.99.1.1 fd99:1::1
	judge srv
	judge cli

	net_step "tshark"
	# Wireshark 4.0 has no ChaCha20-Poly1305 for ESP and stops loading esp_sa at
	# a line it does not know, so those lines (the helper writes them commented
	# out) stay out of the profile; the judge's own decryption covers them.
	mkdir -p "$tmp/xdg/wireshark"
	cat "$tmp"/*.keylog 2>/dev/null | grep -vi chacha >"$tmp/xdg/wireshark/esp_sa"
	cat >"$tmp/xdg/wireshark/preferences" <<'EOF'
# Wireshark 4.0: decrypt ESP with the SAs in esp_sa, check the ICVs
esp.enable_encryption_decode: TRUE
esp.enable_authentication_check: TRUE
EOF
	chacha_spis=" "
	if [ $mode = full ]; then
		nkl=$(cat "$tmp"/*.keylog 2>/dev/null | grep -c '"')
		nch=$(cat "$tmp"/*.keylog 2>/dev/null | grep -ci chacha)
		echo "   esp_sa: $(grep -c '^"' "$tmp/xdg/wireshark/esp_sa") SAs ($nkl in the keylogs, $nch ChaCha20 left out)"
		[ "$nkl" -gt 0 ] || net_bad "no keylog lines from the helpers (--keylog)"
		# the SPIs that Wireshark cannot check
		chacha_spis=" $(cat "$tmp"/*.keylog 2>/dev/null | grep -i chacha |
			awk -F'","' '{ print tolower($4) }' | tr '\n' ' ') "
	fi
	for cap in srv cli; do
		tsh "$tmp/$cap.pcap" -Y 'http.request' -T fields -e ip.src -e ipv6.src -e http.request.uri \
			>"$tmp/tshark-http-$cap.txt"
		v4=$(awk -F'\t' '$1 != "" && $3 == "/file"' "$tmp/tshark-http-$cap.txt" | wc -l)
		v6=$(awk -F'\t' '$2 != "" && $3 == "/file"' "$tmp/tshark-http-$cap.txt" | wc -l)
		if [ $mode = control ]; then
			if [ "$v4" -ge 1 ] && [ "$v6" -ge 1 ]; then
				net_ok "control: tshark sees GET /file in clear on $cap ($v4 IPv4, $v6 IPv6)"
			else
				net_bad "control: tshark's http.request filter finds no GET /file on $cap (IPv4 $v4, IPv6 $v6)"
			fi
			continue
		fi
		if [ "$v4" -ge 1 ] && [ "$v6" -ge 1 ]; then
			net_ok "tshark decrypts the ESP on $cap.pcap: GET /file over IPv4 ($v4) and IPv6 ($v6)"
		else
			net_bad "tshark with the keylog: GET /file on $cap.pcap over IPv4 $v4, IPv6 $v6 times;" \
				"requests seen: $(tr '\t\n' ' |' <"$tmp/tshark-http-$cap.txt" | cut -c1-200)" \
				"$(head -3 "$tmp/tshark.err" | tr '\n' ' ')"
		fi
		# Every ESP packet: decrypted, and its ICV not bad.  (Wireshark 4.0
		# decrypts but leaves some packets' ICV unreported, e.g. the last
		# segments of a long TCP stream, so "good" is counted, not required.)
		tsh "$tmp/$cap.pcap" -Y 'esp' -T fields -E occurrence=f -e esp.spi -e esp.icv_good \
			-e esp.icv_bad -e esp.decrypted_data >"$tmp/tshark-esp-$cap.txt"
		read -r ndec ngood nbad nund und <<<"$(awk -F'\t' -v skip="$chacha_spis" '
			$2 == "1" { g++ }
			$3 == "1" { b++ }
			$4 != "" { d++; next }
			{ if (index(skip, " " tolower($1) " ") == 0) { u++; s[$1] = 1 } }
			END { l = ""; for (k in s) l = l k ","
				printf "%d %d %d %d %s\n", d, g, b, u, (l == "" ? "-" : l) }
			' "$tmp/tshark-esp-$cap.txt")"
		if [ "$ndec" -gt 0 ] && [ "$nbad" -eq 0 ] && [ "$nund" -eq 0 ]; then
			net_ok "tshark decrypts all $ndec ESP packets on $cap.pcap (not ChaCha20), ICV correct" \
				"for $ngood, bad for none"
		else
			net_bad "tshark ESP on $cap.pcap: decrypted $ndec, ICV good $ngood, ICV BAD $nbad," \
				"not decrypted $nund (SPIs: ${und%,})"
		fi
		# UDP payloads inside ESP; Wireshark 4.0 has no ChaCha20-Poly1305 for
		# ESP, so the .3 strings are only checked by the judge's own decryption.
		tsh "$tmp/$cap.pcap" -Y 'udp.port == 7000' -T fields -e data.data >"$tmp/tshark-udp-$cap.txt"
		seen=$(hex_lines <"$tmp/tshark-udp-$cap.txt")
		miss=
		nchk=0
		for s in "${SECRETS[@]}"; do
			label=${s%%	*}
			text=${s#*	}
			case $label in udp*) ;; *) continue ;; esac
			case $label in *.3* | *::3*) continue ;; esac
			nchk=$((nchk + 1))
			grep -qF -- "$text" <<<"$seen" || miss="$miss $label"
		done
		if [ -z "$miss" ] && [ $nchk -gt 0 ]; then
			net_ok "tshark decrypts the UDP test strings to .2/.4 on $cap.pcap ($nchk strings)"
		else
			net_bad "tshark: UDP test strings not visible decrypted on $cap.pcap:$miss"
		fi
	done
	if [ $mode = control ]; then
		seen=$(tsh "$tmp/srv.pcap" -Y 'udp.port == 7000' -T fields -e data.data | hex_lines)
		miss=
		for s in "${SECRETS[@]}"; do
			case ${s%%	*} in udp*) grep -qF -- "${s#*	}" <<<"$seen" || miss="$miss ${s%%	*}" ;; esac
		done
		if [ -z "$miss" ]; then
			net_ok "control: tshark sees every UDP test string in clear"
		else
			net_bad "control: tshark's udp.port == 7000 extraction misses:$miss"
		fi
	fi
}

# ---------------------------------------------------------------- checks
net_step "prerequisites ($mode)"
if [ $mode = selftest ]; then
	net_require tshark:tshark
else
	net_require ip:iproute2 nft:nftables nsd:nsd dig:dnsutils tshark:tshark \
		dumpcap:wireshark-common curl:curl socat:socat ss:iproute2 sha256sum:coreutils
fi
"$PY" -c 'import cryptography' 2>/dev/null ||
	net_die "python3-cryptography missing for $PY (apt-get install python3-cryptography)"
if [ $mode != selftest ]; then
	[ -x "$keygen" ] || net_die "$keygen not built (top_builddir=$top_builddir)"
	if ! { ip netns add "asprobe-$$" && ip netns del "asprobe-$$"; }; then
		net_die "cannot create network namespaces here (ip netns add)"
	fi
fi
if [ $mode = full ]; then
	[ -x "$helper" ] || net_die "$helper not built (top_builddir=$top_builddir)"
	[ -x "$ctl" ] || net_die "$ctl not built"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/autosec-net.XXXXXX") || net_die "mktemp"
SECRETS=()   # label<TAB>text: must never be on the wire in clear
required_at=

# ---------------------------------------------------------------- self-test
# The positive control: what a correct run looks like on the wire, made with
# known keys, must pass every check of the judge and of tshark; the same
# capture with one ESP octet flipped, or with one clear request added, must
# not.
if [ $mode = selftest ]; then
	net_step "self-test: a synthetic capture with known keys"
	net_synth_write "$tmp/synth.py"
	"$PY" "$tmp/synth.py" "$tmp" >"$tmp/synth.out" || net_die "the synthetic capture: $(cat "$tmp/synth.out")"
	while IFS= read -r line; do
		case $line in
		required_at*) required_at=${line#*	} ;;
		*) SECRETS+=("$line") ;;
		esac
	done <"$tmp/synth.out"
	mode=full
	judge_all
	net_step "self-test: the judge must notice a flipped octet and a clear request"
	"$PY" - "$tmp" <<'PY'
import json, os, struct, sys
tmp = sys.argv[1]
raw = open(os.path.join(tmp, "srv.pcap"), "rb").read()
recs, off = [], 24
while off < len(raw):
    n = struct.unpack("<I", raw[off + 8:off + 12])[0]
    recs.append(bytearray(raw[off:off + 16 + n]))
    off += 16 + n
flip = [bytearray(r) for r in recs]
flip[3][-20] ^= 0x01          # ciphertext of the ESP packet carrying GET /file
leak = [bytearray(r) for r in recs]
clear = bytearray(recs[3])    # same frame, payload replaced by a clear request
body = b"GET /file HTTP/1.1\r\n\r\n"
eth = clear[16:30]
ip = bytes([0x45, 0, 0, 20 + 20 + len(body), 0, 1, 0x40, 0, 64, 6, 0, 0]) + bytes(
    [10, 99, 2, 1, 10, 99, 2, 2])
tcp = struct.pack("!HHIIBBHHH", 40009, 8080, 1, 1, 0x50, 0x18, 65535, 0, 0)
fr = eth + ip + tcp + body
leak.append(bytearray(struct.pack("<IIII", *struct.unpack("<II", recs[-1][:8]), len(fr), len(fr)) + fr))
spec = json.load(open(os.path.join(tmp, "spec-srv.json")))
for name, rs in (("flip", flip), ("leak", leak)):
    p = os.path.join(tmp, name + ".pcap")
    with open(p, "wb") as f:
        f.write(raw[:24] + b"".join(rs))
    spec["pcap"], spec["name"] = p, name
    json.dump(spec, open(os.path.join(tmp, "spec-%s.json" % name), "w"))
PY
	"$PY" "$tmp/judge.py" "$tmp/spec-flip.json" >"$tmp/judge-flip.out" 2>&1
	if grep -q '^CHECK esp-decrypt bad' "$tmp/judge-flip.out" &&
		[ "$(grep -c '^CHECK [^ ]* bad' "$tmp/judge-flip.out")" = 1 ]; then
		net_ok "self-test: one flipped ciphertext octet fails exactly the ESP cross-check:" \
			"$(grep '^CHECK esp-decrypt' "$tmp/judge-flip.out" | cut -d' ' -f4-)"
	else
		net_bad "self-test: the judge on a flipped octet: $(grep '^CHECK [^ ]* bad' "$tmp/judge-flip.out" | tr '\n' '|')"
	fi
	XDG_CONFIG_HOME=$tmp/xdg HOME=$tmp timeout 60 tshark -n -r "$tmp/flip.pcap" -Y 'esp.icv_bad == 1' \
		-T fields -e esp.spi >"$tmp/tshark-flip.txt" 2>/dev/null
	if [ "$(grep -c . "$tmp/tshark-flip.txt")" = 1 ]; then
		net_ok "self-test: tshark reports the flipped packet's ICV as bad"
	else
		net_bad "self-test: tshark on the flipped octet: $(grep -c . "$tmp/tshark-flip.txt") bad ICVs, want 1"
	fi
	"$PY" "$tmp/judge.py" "$tmp/spec-leak.json" >"$tmp/judge-leak.out" 2>&1
	if grep -q '^CHECK raw-secrets bad' "$tmp/judge-leak.out" &&
		grep -q '^CHECK no-clear-app bad' "$tmp/judge-leak.out"; then
		net_ok "self-test: one clear GET /file to .2 is caught by the raw-bytes and the protocol checks"
	else
		net_bad "self-test: the judge missed a clear GET /file: $(grep '^CHECK' "$tmp/judge-leak.out" | head -3 | tr '\n' '|')"
	fi
	finished=1
	echo "$NET_PASS passed, $NET_FAIL failed"
	[ "$NET_FAIL" -eq 0 ]
	exit
fi

# ---------------------------------------------------------------- keys, zones
net_step "keys and zones"
declare -A REV KEYTAG WANT_ENC
for a in "${SERVERS4[@]}" "${SERVERS6[@]}" $NOKEY4 $NOKEY6; do REV[$a]=$(net_rev "$a"); done
# keygen N TYPE-ARGS...: key for 10.99.2.N and fd99:2::N
keygen_for() {
	local n=$1
	shift
	"$keygen" "$@" -o "$tmp/k$n.key" -n "${REV[10.99.2.$n]}" --ttl 300 \
		>"$tmp/k$n.lines" 2>"$tmp/k$n.info" || net_die "autosec-keygen for .$n: $(cat "$tmp/k$n.info")"
	"$keygen" --print -o "$tmp/k$n.key" -n "${REV[fd99:2::$n]}" --ttl 300 \
		>>"$tmp/k$n.lines" 2>>"$tmp/k$n.info" || net_die "autosec-keygen --print for ::$n"
	KEYTAG[$n]=$(sed -n 's/.*key tag \([0-9]*\).*/\1/p' "$tmp/k$n.info" | head -1)
	[ "$(grep -c ' IN KEY 512 4 253 ' "$tmp/k$n.lines")" = 2 ] ||
		net_die "autosec-keygen printed no KEY lines for .$n: $(cat "$tmp/k$n.lines")"
}
keygen_for 2 -t x25519 --enc ENCR_AES_GCM_16-256,ENCR_CHACHA20_POLY1305,ENCR_AES_CBC-256
keygen_for 3 -t rsa -b 2048 --enc ENCR_CHACHA20_POLY1305,ENCR_AES_GCM_16-256
keygen_for 4 -t x25519 --enc ENCR_AES_CBC-256,ENCR_AES_GCM_16-256 --hash AUTH_HMAC_SHA2_256_128
WANT_ENC[2]=ENCR_AES_GCM_16-256
WANT_ENC[3]=ENCR_CHACHA20_POLY1305
WANT_ENC[4]=ENCR_AES_CBC-256
echo "   keys: .2 X25519 tag ${KEYTAG[2]}, .3 RSA-2048 tag ${KEYTAG[3]}, .4 X25519 tag ${KEYTAG[4]}"

soa() { echo "@ IN SOA ns.$ZONE. hostmaster.$ZONE. 1 3600 600 86400 60"; echo "@ IN NS ns.$ZONE."; }
{
	echo "\$ORIGIN $ZONE."
	echo "\$TTL 300"
	soa
	echo "ns IN A 10.99.1.1"
	echo "ns IN AAAA fd99:1::1"
	echo "router IN A 10.99.1.1"
	echo "client IN A 10.99.1.2"
	echo "client IN AAAA fd99:1::2"
	for n in 2 3 4 5; do
		echo "srv$n IN A 10.99.2.$n"
		echo "srv$n IN AAAA fd99:2::$n"
	done
} >"$tmp/fwd.zone"
{
	echo "\$ORIGIN 99.10.in-addr.arpa."
	echo "\$TTL 300"
	soa
	for n in 2 3 4 5; do echo "${REV[10.99.2.$n]} IN PTR srv$n.$ZONE."; done
	for n in 2 3 4; do grep " IN KEY " "$tmp/k$n.lines" | grep in-addr.arpa; done
} >"$tmp/rev4.zone"
{
	echo "\$ORIGIN 9.9.d.f.ip6.arpa."
	echo "\$TTL 300"
	soa
	for n in 2 3 4 5; do echo "${REV[fd99:2::$n]} IN PTR srv$n.$ZONE."; done
	for n in 2 3 4; do grep " IN KEY " "$tmp/k$n.lines" | grep ip6.arpa; done
} >"$tmp/rev6.zone"

# ---------------------------------------------------------------- network
net_step "namespaces (suffix $$)"
net_setup "$$"
net_resolv "$NET_C" 10.99.1.1 fd99:1::1
net_resolv "$NET_S" 10.99.2.1 fd99:2::1
echo "   $NET_C  $NET_R  $NET_S"

net_step "NSD on the router"
net_nsd_start "$tmp" "fwd.zone:$ZONE" "rev4.zone:99.10.in-addr.arpa" "rev6.zone:9.9.d.f.ip6.arpa"
nsd_up() { ip netns exec "$NET_C" dig +short +time=1 +tries=1 @10.99.1.1 "$ZONE" SOA | grep >/dev/null -c hostmaster; }
if net_wait_for 15 nsd_up; then
	net_ok "NSD answers on 10.99.1.1:53 inside $NET_R"
else
	cat "$tmp/nsd.out" "$tmp/nsd.log" 2>/dev/null
	net_die "NSD did not start in $NET_R"
fi

net_step "DNS from the hosts"
b64_of() { awk '{ for (i = 8; i <= NF; i++) printf "%s", $i; print "" }'; }
for a in "${SERVERS4[@]}" "${SERVERS6[@]}"; do
	n=${a##*[.:]}
	case $a in *:*) ns_ip=fd99:1::1 ;; *) ns_ip=10.99.1.1 ;; esac
	want=$(grep " IN KEY " "$tmp/k$n.lines" | grep -F "${REV[$a]} " | b64_of)
	got=$(ip netns exec "$NET_C" dig +short +time=2 +tries=1 @"$ns_ip" "${REV[$a]}" KEY 2>&1 |
		awk '$1 == 512 && $2 == 4 && $3 == 253 { for (i = 4; i <= NF; i++) printf "%s", $i; print "" }')
	if [ -n "$want" ] && [ "$got" = "$want" ]; then
		net_ok "client: dig KEY ${REV[$a]} @$ns_ip is the key of .$n"
	else
		net_bad "client: dig KEY ${REV[$a]} @$ns_ip: got '${got:0:60}', want '${want:0:60}'"
	fi
done
got=$(ip netns exec "$NET_S" dig +short +time=2 +tries=1 -x 10.99.2.5 2>&1)
if [ "$got" = "srv5.$ZONE." ]; then
	net_ok "server: its resolv.conf reaches NSD (PTR of 10.99.2.5 = $got)"
else
	net_bad "server: dig -x 10.99.2.5 via resolv.conf: '$got'"
fi
if [ -x "$ctl" ]; then
	for a in 10.99.2.2 10.99.2.3 10.99.2.4 fd99:2::4; do
		n=${a##*[.:]}
		out=$(ip netns exec "$NET_C" timeout 20 "$ctl" lookup "$a" --server 10.99.1.1 2>&1)
		if echo "$out" | grep >/dev/null -c "this host would use: ${WANT_ENC[$n]}" &&
			echo "$out" | grep >/dev/null -c "key tag ${KEYTAG[$n]}"; then
			net_ok "client: autosec-ctl lookup $a -> ${WANT_ENC[$n]}, key tag ${KEYTAG[$n]}"
		else
			net_bad "client: autosec-ctl lookup $a: $(echo "$out" | tr '\n' '|' | cut -c1-300)"
		fi
	done
	out=$(ip netns exec "$NET_C" timeout 20 "$ctl" lookup $NOKEY4 --server 10.99.1.1 2>&1)
	if echo "$out" | grep >/dev/null -c "no KEY record"; then
		net_ok "client: autosec-ctl lookup $NOKEY4: no key, as intended"
	else
		net_bad "client: autosec-ctl lookup $NOKEY4: $(echo "$out" | tr '\n' '|' | cut -c1-300)"
	fi
fi

# ---------------------------------------------------------------- applications
net_step "applications on the server"
mkdir -p "$tmp/www"
head -c $((10 * 1024 * 1024)) /dev/urandom >"$tmp/www/file"
head -c $((1024 * 1024)) /dev/urandom >"$tmp/www/small"
echo "this file is served in clear from the host without a key" >"$tmp/www/clear.txt"
sum_file=$(sha256sum <"$tmp/www/file" | cut -d' ' -f1)
sum_small=$(sha256sum <"$tmp/www/small" | cut -d' ' -f1)
sum_clear=$(sha256sum <"$tmp/www/clear.txt" | cut -d' ' -f1)
net_bg "$NET_S" "$tmp/http.log" "$PY" -m http.server 8080 --bind :: --directory "$tmp/www"
socat=$(net_find_prog socat)
for n in 2 3 4 5; do
	net_bg "$NET_S" "$tmp/udp4-$n.log" "$socat" "UDP4-RECVFROM:7000,bind=10.99.2.$n,fork" EXEC:cat
	net_bg "$NET_S" "$tmp/udp6-$n.log" "$socat" "UDP6-RECVFROM:7000,bind=[fd99:2::$n],fork" EXEC:cat
done
listening() { ip netns exec "$NET_S" ss -ltnH 'sport = :8080' | grep >/dev/null -c .; }
udp_count() { ip netns exec "$NET_S" ss -lunH 'sport = :7000' | wc -l; }
udp8() { [ "$(udp_count)" -ge 8 ]; }
net_wait_for 10 listening || net_die "http.server does not listen on 8080: $(cat "$tmp/http.log")"
net_wait_for 10 udp8 || net_die "socat: $(udp_count) of 8 UDP listeners on 7000"
net_ok "http.server on [::]:8080 and 8 socat UDP echo listeners on :7000"

net_step "capture on the router (both links)"
net_capture_start "$NET_R" srv0 "$tmp/srv.pcap"
net_capture_start "$NET_R" cli0 "$tmp/cli.pcap"
echo "   dumpcap on srv0 and cli0"

# ---------------------------------------------------------------- helpers
helper_up() { # NS SOCK PID
	kill -0 "$3" 2>/dev/null || return 2
	[ -S "$2" ] && ip -n "$1" link show autosec0 >/dev/null 2>&1
}
start_helper() { # WHO NS LOG KEYLOG SOCK ARGS... -> sets HELPER_PID
	local who=$1 ns=$2 log=$3 keylog=$4 sock=$5 rc
	shift 5
	net_bg "$ns" "$log" "$helper" -c /dev/null --tun autosec0 --control "$sock" \
		--log-level debug --log-target stderr --keylog "$keylog" "$@"
	HELPER_PID=$NET_LAST_PID
	for _ in $(seq 1 150); do
		helper_up "$ns" "$sock" "$HELPER_PID"
		rc=$?
		[ $rc -eq 0 ] && break
		[ $rc -eq 2 ] && break
		sleep 0.1
	done
	if [ $rc -eq 0 ]; then
		net_ok "$who helper up in $ns (pid $HELPER_PID): control socket and autosec0 exist"
		return 0
	fi
	if [ $rc -eq 2 ]; then
		wait "$HELPER_PID"
		rc=$?
		net_bad "$who helper exited with status $rc before its control socket and autosec0 existed; log:"
	else
		net_bad "$who helper: no control socket $sock or no autosec0 in $ns after 15 s; log:"
	fi
	tail -n 30 "$log" | sed 's/^/    /'
	return 1
}
steer() { # route the server addresses of the client into the TUN
	local a ok=1
	for a in "${SERVERS4[@]}" $NOKEY4; do
		ip -n "$NET_C" route replace "$a/32" dev autosec0 table $TABLE_PEERS || ok=
	done
	for a in "${SERVERS6[@]}" $NOKEY6; do
		ip -n "$NET_C" -6 route replace "$a/128" dev autosec0 table $TABLE_PEERS || ok=
	done
	if [ -n "$ok" ]; then
		net_ok "client: server addresses routed into autosec0 (table $TABLE_PEERS)"
	else
		net_bad "client: cannot add routes via autosec0 to table $TABLE_PEERS"
	fi
	echo "   client rules: $(ip -n "$NET_C" rule show | grep -c "lookup $TABLE_PEERS") IPv4," \
		"$(ip -n "$NET_C" -6 rule show | grep -c "lookup $TABLE_PEERS") IPv6 lookup $TABLE_PEERS"
}

if [ $mode = full ]; then
	net_step "helpers"
	start_helper server "$NET_S" "$tmp/helper-server.log" "$tmp/server.keylog" "$tmp/server.sock" \
		--key "$tmp/k2.key" --key "$tmp/k3.key" --key "$tmp/k4.key" \
		--dns-server 10.99.2.1 --policy opportunistic ||
		net_die "server helper did not start"
	S_HELPER_PID=$HELPER_PID
	start_helper client "$NET_C" "$tmp/helper-client1.log" "$tmp/client1.keylog" "$tmp/client.sock" \
		--dns-server 10.99.1.1 --policy opportunistic ||
		net_die "client helper did not start"
	C_HELPER_PID=$HELPER_PID
	steer
fi

# ---------------------------------------------------------------- traffic
fetch() { # URL FILE-SHA256 WHAT [MAXTIME]: curl from the client, check the bytes
	local url=$1 want=$2 what=$3 max=${4:-90} t0 got code rc
	t0=$(date +%s.%N)
	code=$(ip netns exec "$NET_C" curl -sS -g --noproxy '*' --connect-timeout 20 --max-time "$max" \
		-o "$tmp/fetched" -w '%{http_code}' "$url" 2>"$tmp/curl.err")
	rc=$?
	got=$( { sha256sum <"$tmp/fetched"; } 2>/dev/null | cut -d' ' -f1)
	if [ $rc -eq 0 ] && [ "$code" = 200 ] && [ "$got" = "$want" ]; then
		net_ok "curl $url ($what): sha256 matches, $(stat -c %s "$tmp/fetched") octets in" \
			"$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"
	else
		net_bad "curl $url ($what): exit $rc, HTTP $code, sha256 ${got:0:16} want ${want:0:16}:" \
			"$(tr '\n' ' ' <"$tmp/curl.err")"
	fi
	rm -f "$tmp/fetched"
}
udp_echo() { # ADDR WHAT: one datagram with a fresh string, expect it echoed
	local a=$1 what=$2 s dst got
	s="autosec-udp-$$-$RANDOM$RANDOM-$a"
	case $a in *:*) dst="UDP6:[$a]:7000" ;; *) dst="UDP4:$a:7000" ;; esac
	got=$(echo "$s" | ip netns exec "$NET_C" timeout 15 socat -t 4 - "$dst" 2>"$tmp/socat.err")
	UDP_LAST=$s
	if [ "$got" = "$s" ]; then
		net_ok "socat UDP $a:7000 ($what): the string came back"
		return 0
	fi
	net_bad "socat UDP $a:7000 ($what): sent '$s', got '${got:0:80}' $(tr '\n' ' ' <"$tmp/socat.err")"
	return 1
}
add_secret() { SECRETS+=("$1	$2"); }
add_secret "GET /file" "GET /file"
add_secret "GET /small" "GET /small"
# 64-octet samples of the files: none of them may cross in clear
for off in 0 4096 1048576 5000000 10485696; do
	add_secret "file@$off" "hex:$(dd if="$tmp/www/file" bs=1 skip=$off count=64 2>/dev/null | od -An -v -tx1 | tr -d ' \n')"
done
for off in 0 524288 1048512; do
	add_secret "small@$off" "hex:$(dd if="$tmp/www/small" bs=1 skip=$off count=64 2>/dev/null | od -An -v -tx1 | tr -d ' \n')"
done

net_step "traffic to the keyed servers"
# The first packet towards .3 (v4) and ::4 is a UDP datagram, carried inside
# the INIT; towards the others it is a TCP SYN.
udp_echo 10.99.2.3 "ChaCha20-Poly1305/RSA-2048, first packet of the pair" && add_secret "udp .3 first" "$UDP_LAST"
udp_echo fd99:2::4 "AES-CBC+HMAC/X25519, first packet of the pair" && add_secret "udp ::4 first" "$UDP_LAST"
fetch "http://10.99.2.2:8080/file" "$sum_file" "10 MiB, AES-GCM/X25519, IPv4 through NAT"
fetch "http://[fd99:2::2]:8080/file" "$sum_file" "10 MiB, AES-GCM/X25519, IPv6"
fetch "http://10.99.2.3:8080/small" "$sum_small" "1 MiB, ChaCha20-Poly1305/RSA-2048, IPv4"
fetch "http://[fd99:2::3]:8080/small" "$sum_small" "1 MiB, ChaCha20-Poly1305/RSA-2048, IPv6"
fetch "http://10.99.2.4:8080/small" "$sum_small" "1 MiB, AES-CBC+HMAC/X25519, IPv4"
fetch "http://[fd99:2::4]:8080/small" "$sum_small" "1 MiB, AES-CBC+HMAC/X25519, IPv6"
for a in 10.99.2.2 fd99:2::2 fd99:2::3 10.99.2.4 10.99.2.3 fd99:2::4; do
	udp_echo "$a" "after the handshake" && add_secret "udp $a" "$UDP_LAST"
done

net_step "traffic to $NOKEY4 / $NOKEY6 (no KEY record; policy opportunistic)"
fetch "http://$NOKEY4:8080/clear.txt" "$sum_clear" "no key: clear" 30
fetch "http://[$NOKEY6]:8080/clear.txt" "$sum_clear" "no key: clear" 30
udp_echo $NOKEY4 "no key: clear"
udp_echo $NOKEY6 "no key: clear"

# ---------------------------------------------------------------- autosec-ctl show
ctl_json_check() { # WHO SOCK PEER...: the JSON parses and every peer has an SA with packets
	local who=$1 sock=$2 out
	shift 2
	ip netns exec "$([ "$who" = client ] && echo "$NET_C" || echo "$NET_S")" \
		timeout 10 "$ctl" show --json --control "$sock" >"$tmp/show-$who.json" 2>"$tmp/show-$who.err"
	if out=$("$PY" - "$tmp/show-$who.json" "$@" <<'PY' 2>&1
import ipaddress, json, sys
# No fixed schema is assumed: an SA is any object with an "spi" key; it
# belongs to a peer when one of its own string values is that address.
doc = json.load(open(sys.argv[1]))
peers = sys.argv[2:]
objs = []
def walk(o):
    if isinstance(o, dict):
        objs.append(o)
        for v in o.values():
            walk(v)
    elif isinstance(o, list):
        for v in o:
            walk(v)
walk(doc)
def packets(o):
    if isinstance(o, dict):
        return sum(v if "packets" in k.lower() and isinstance(v, int) else packets(v)
                   for k, v in o.items())
    if isinstance(o, list):
        return sum(packets(v) for v in o)
    return 0
def same(a, b):
    try:
        return ipaddress.ip_address(a.split("%")[0]) == ipaddress.ip_address(b)
    except ValueError:
        return False
bad, good = [], []
for p in peers:
    mine = [o for o in objs if any(isinstance(v, str) and same(v, p) for v in o.values())]
    sas = [o for o in mine if any("spi" in k.lower() for k in o)]
    n = sum(packets(o) for o in sas)
    states = sorted({str(o.get("state")) for o in mine if "state" in o})
    if not sas or n <= 0 or "failed" in states:
        bad.append("%s: %d SA objects, %d packets, state %s" % (p, len(sas), n, "/".join(states) or "?"))
    else:
        good.append("%s %d" % (p, n))
print("SA packets: %s%s" % (", ".join(good) or "none", ("; BAD " + "; ".join(bad)) if bad else ""))
sys.exit(1 if bad else 0)
PY
	); then
		net_ok "$who: autosec-ctl show --json parses, $out"
	else
		net_bad "$who: autosec-ctl show --json: $out $(head -c 300 "$tmp/show-$who.json") $(cat "$tmp/show-$who.err")"
	fi
}
ctl_text_check() { # WHO NS SOCK WORD...
	local who=$1 ns=$2 sock=$3 w miss=
	shift 3
	ip netns exec "$ns" timeout 10 "$ctl" show --control "$sock" >"$tmp/show-$who.txt" 2>&1
	for w in "$@"; do grep -qF -- "$w" "$tmp/show-$who.txt" || miss="$miss $w"; done
	if [ -z "$miss" ]; then
		net_ok "$who: autosec-ctl show names$(printf ' %s' "$@")"
	else
		net_bad "$who: autosec-ctl show lacks:$miss"
		sed 's/^/    /' "$tmp/show-$who.txt" | head -60
	fi
}
if [ $mode = full ]; then
	net_step "autosec-ctl show"
	ctl_text_check client "$NET_C" "$tmp/client.sock" "${SERVERS4[@]}" "${SERVERS6[@]}" \
		ENCR_AES_GCM_16-256 ENCR_CHACHA20_POLY1305 ENCR_AES_CBC-256 AUTH_HMAC_SHA2_256_128
	ctl_text_check server "$NET_S" "$tmp/server.sock" 10.99.2.1 fd99:1::2 \
		ENCR_AES_GCM_16-256 ENCR_CHACHA20_POLY1305 ENCR_AES_CBC-256 AUTH_HMAC_SHA2_256_128
	ctl_json_check client "$tmp/client.sock" "${SERVERS4[@]}" "${SERVERS6[@]}"
	ctl_json_check server "$tmp/server.sock" 10.99.2.1 fd99:1::2
fi

# ---------------------------------------------------------------- policy required
if [ $mode = full ]; then
	net_step "client helper restarted with --policy required"
	net_stop "$C_HELPER_PID" TERM
	echo "   first client helper exited with status $?"
	C_HELPER_PID=
	start_helper client "$NET_C" "$tmp/helper-client2.log" "$tmp/client2.keylog" "$tmp/client.sock" \
		--dns-server 10.99.1.1 --policy required && C_HELPER_PID=$HELPER_PID
	steer
	required_at=$(date +%s.%N)
	code=$(ip netns exec "$NET_C" curl -sS -g --noproxy '*' --connect-timeout 8 --max-time 10 \
		-o /dev/null -w '%{http_code}' "http://$NOKEY4:8080/clear.txt" 2>"$tmp/curl.err")
	rc=$?
	if [ $rc -ne 0 ]; then
		net_ok "required: curl to $NOKEY4 fails (exit $rc: $(tr '\n' ' ' <"$tmp/curl.err"))"
	else
		net_bad "required: curl to $NOKEY4 succeeded (HTTP $code): sent in clear despite policy required"
	fi
	s="autosec-udp-$$-required-$RANDOM"
	got=$(echo "$s" | ip netns exec "$NET_C" timeout 10 socat -t 3 - "UDP6:[$NOKEY6]:7000" 2>&1)
	if [ "$got" != "$s" ]; then
		net_ok "required: socat to [$NOKEY6]:7000 gets no answer"
	else
		net_bad "required: socat to [$NOKEY6]:7000 was answered: sent in clear despite policy required"
	fi
	sleep 1
	for a in $NOKEY4 $NOKEY6; do
		line=$(grep -F -- "$a" "$tmp/helper-client2.log" | grep -Ei 'required|no autosec key' | head -1)
		if [ -n "$line" ]; then
			net_ok "required: the client log names $a: $line"
		else
			net_bad "required: no log line naming $a with 'required' or 'no AutoSEC key'"
		fi
	done
	fetch "http://10.99.2.2:8080/small" "$sum_small" "policy required, keyed peer, new handshake"
	udp_echo fd99:2::3 "policy required, keyed peer" && add_secret "udp ::3 required" "$UDP_LAST"
fi

# ---------------------------------------------------------------- show --json, deltas
TABLE_STEER=4242
ctl_json() { # WHO FILE: `autosec-ctl show --json` of the client or the server into FILE
	local ns=$NET_S sock=$tmp/server.sock
	[ "$1" = client ] && { ns=$NET_C; sock=$tmp/client.sock; }
	ip netns exec "$ns" timeout 10 "$ctl" show --json --control "$sock" >"$2" 2>&1
}
jv() { # FILE EXPR [ARG...]: EXPR over the JSON in FILE (d; a = ARGs), "?" when it fails
	"$PY" - "$@" <<'PY' 2>/dev/null || echo "?"
import ipaddress, json, sys
d = json.load(open(sys.argv[1]))
a = sys.argv[3:]
def same(x, y):
    try:
        return ipaddress.ip_address(x.split("%")[0]) == ipaddress.ip_address(y)
    except ValueError:
        return False
def c(n): return d["counters"][n]
def es(n): return d["errors_sent"].get(n, 0)
def er(n): return d["errors_received"].get(n, 0)
def peers(x): return [p for p in d["peers"] if same(p["peer"], x)]
def one(x, k):
    ps = peers(x)
    return ps[0].get(k, "-") if len(ps) == 1 else "(%d entries)" % len(ps)
print(eval(sys.argv[2]))
PY
}
isnum() { [[ $1 =~ ^[0-9]+$ ]]; }
rule_counts() { # NS -> "IPv4 steer/peers, IPv6 steer/peers" rule counts of the helper
	local f out=
	for f in -4 -6; do
		out="$out $(ip -n "$1" $f rule show | grep -c "lookup $TABLE_STEER\$")"
		out="$out $(ip -n "$1" $f rule show | grep -c "lookup $TABLE_PEERS\$")"
	done
	echo "${out# }"
}
udp_try() { # ADDR WAIT: one datagram with a fresh string, no verdict; sets UDP_LAST
	local a=$1 s dst got
	s="autosec-udp-$$-$RANDOM$RANDOM-$a"
	case $a in *:*) dst="UDP6:[$a]:7000" ;; *) dst="UDP4:$a:7000" ;; esac
	UDP_LAST=$s
	got=$(echo "$s" | ip netns exec "$NET_C" timeout $(($2 + 5)) socat -t "$2" - "$dst" \
		2>>"$tmp/socat.err")
	[ "$got" = "$s" ]
}
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

# ---------------------------------------------------------------- responder restart
# The server helper loses every SA; the client's next ESP packet draws an
# INVALID_SPI error, and the client must re-key at once instead of sending
# into the void until the SA idles out (PROTOCOL.md 3.9.5).  The restarted
# server starts from nothing, so the lost-REPLY step after this one meets a
# responder with fresh state.
RESTART_PEERS=(10.99.2.2 fd99:2::3) # the client (policy required) has SAs to these
if [ $mode = full ]; then
	net_step "server helper restarted: INVALID_SPI, then an immediate re-key"
	ctl_json client "$tmp/rs-client-before.json"
	declare -A OLD_SPI INITS_BEFORE
	for a in "${RESTART_PEERS[@]}"; do
		OLD_SPI[$a]=$(jv "$tmp/rs-client-before.json" 'one(a[0], "spi_out")' "$a")
		st=$(jv "$tmp/rs-client-before.json" 'one(a[0], "state")' "$a")
		INITS_BEFORE[$a]=$(grep -c "INIT to $a " "$tmp/helper-client2.log")
		if [[ ${OLD_SPI[$a]} =~ ^[0-9a-f]{8}$ ]]; then
			net_ok "restart: the client has an SA to $a ($st, out SPI ${OLD_SPI[$a]})"
		else
			net_bad "restart: the client has no single SA to $a: state $st, out SPI ${OLD_SPI[$a]}"
		fi
	done
	# idle past the NAT keepalive interval (20 s) first: a keepalive once
	# made the client ignore INVALID_SPI for the next 20 s
	echo "   (the SAs idle for 21 s, so the IPv4 client sends a NAT keepalive)"
	sleep 21
	net_stop "$S_HELPER_PID" TERM
	rc=$?
	S_HELPER_PID=
	left=$(rule_counts "$NET_S")
	routes=$(for f in -4 -6; do
		ip -n "$NET_S" $f route show table $TABLE_STEER
		ip -n "$NET_S" $f route show table $TABLE_PEERS
	done 2>/dev/null | grep -c .)
	if [ $rc -eq 0 ] && [ "$left" = "0 0 0 0" ] && [ "$routes" = 0 ] && [ ! -e "$tmp/server.sock" ] &&
		! ip -n "$NET_S" link show autosec0 >/dev/null 2>&1; then
		net_ok "restart: the server helper exits with status 0 on SIGTERM and leaves no rule," \
			"no route in tables $TABLE_STEER/$TABLE_PEERS, no control socket, no autosec0"
	else
		net_bad "restart: server helper stop: exit $rc; rules left (v4 steer/peers, v6 steer/peers)" \
			"$left; $routes routes left in tables $TABLE_STEER/$TABLE_PEERS;" \
			"control socket $([ -e "$tmp/server.sock" ] && echo LEFT || echo gone);" \
			"autosec0 $(ip -n "$NET_S" link show autosec0 >/dev/null 2>&1 && echo LEFT || echo gone)"
	fi
	# the same options (and keylog, which is appended to); a new log file
	start_helper server "$NET_S" "$tmp/helper-server2.log" "$tmp/server.keylog" "$tmp/server.sock" \
		--key "$tmp/k2.key" --key "$tmp/k3.key" --key "$tmp/k4.key" \
		--dns-server 10.99.2.1 --policy opportunistic ||
		net_die "the server helper did not start again"
	S_HELPER_PID=$HELPER_PID
	got=$(rule_counts "$NET_S")
	if [ "$got" = "1 1 1 1" ]; then
		net_ok "restart: the server has exactly one copy of each of its two rules per family" \
			"(lookup $TABLE_STEER and lookup $TABLE_PEERS, IPv4 and IPv6)"
	else
		net_bad "restart: the server's rules (v4 lookup $TABLE_STEER/$TABLE_PEERS, v6 the same):" \
			"$got, want 1 1 1 1: $(ip -n "$NET_S" rule show | tr '\n' '|')" \
			"$(ip -n "$NET_S" -6 rule show | tr '\n' '|')"
	fi
	for a in "${RESTART_PEERS[@]}"; do
		# the first datagram goes under the SA the server forgot: it is lost,
		# and its INVALID_SPI starts the re-key; the next one must come back
		t0=$(date +%s.%N)
		ok=
		for try in 1 2 3; do
			if udp_try "$a" 2; then
				ok=$try
				break
			fi
			add_secret "lost after the restart $a #$try" "$UDP_LAST"
		done
		if [ -n "$ok" ]; then
			add_secret "udp $a after the restart" "$UDP_LAST"
			net_ok "restart: socat UDP $a:7000 works again: echoed at attempt $ok of 3," \
				"$(since "$t0") s after the first try"
		else
			net_bad "restart: socat UDP $a:7000: no echo in 3 attempts ($(since "$t0") s):" \
				"$(tail -n 3 "$tmp/socat.err" | tr '\n' ' ')"
		fi
	done
	sleep 0.5
	ctl_json server "$tmp/rs-server-after.json"
	ctl_json client "$tmp/rs-client-after.json"
	n=$(jv "$tmp/rs-server-after.json" 'es("INVALID_SPI")')
	m=$(jv "$tmp/rs-server-after.json" 'c("esp_no_sa")')
	if isnum "$n" && [ "$n" -ge 1 ]; then
		net_ok "restart: the server sent INVALID_SPI $n times (esp_no_sa $m)"
	else
		net_bad "restart: the server's errors_sent.INVALID_SPI is $n (esp_no_sa $m)"
	fi
	n=$(jv "$tmp/rs-client-after.json" 'er("INVALID_SPI")')
	if isnum "$n" && [ "$n" -ge 1 ]; then
		net_ok "restart: the client received INVALID_SPI $n times"
	else
		net_bad "restart: the client's errors_received.INVALID_SPI is $n"
	fi
	for a in "${RESTART_PEERS[@]}"; do
		inits=$(grep -c "INIT to $a " "$tmp/helper-client2.log")
		said=$(grep -F "says it has no SA for SPI ${OLD_SPI[$a]}" "$tmp/helper-client2.log" |
			grep -F -- "$a" | head -1)
		new=$(jv "$tmp/rs-client-after.json" 'one(a[0], "spi_out")' "$a")
		st=$(jv "$tmp/rs-client-after.json" 'one(a[0], "state")' "$a")
		if [ -n "$said" ] && [ "$inits" -gt "${INITS_BEFORE[$a]}" ] && [ "$st" = up ] &&
			[ "$new" != "${OLD_SPI[$a]}" ]; then
			net_ok "restart: the client re-keyed with $a: INIT lines ${INITS_BEFORE[$a]} -> $inits," \
				"out SPI ${OLD_SPI[$a]} -> $new; log: ${said#*] }"
		else
			net_bad "restart: the client and $a: INIT lines ${INITS_BEFORE[$a]} -> $inits, state $st," \
				"out SPI ${OLD_SPI[$a]} -> $new; INVALID_SPI log line: '${said:-none}'"
		fi
	done
	# the server sees the client as 10.99.2.1 (NAT) and fd99:1::2
	for a in 10.99.2.1 fd99:1::2; do
		line=$(grep -E "SA up: peer $a \(it initiated\)" "$tmp/helper-server2.log" | head -1)
		if [ -n "$line" ]; then
			net_ok "restart: the restarted server's log has the new SA: ${line#*SA up: }"
		else
			net_bad "restart: no 'SA up: peer $a (it initiated)' in helper-server2.log"
		fi
	done
fi

# ---------------------------------------------------------------- lost REPLY
# nftables in the router drops the REPLYs of one server for 2.5 s while curl
# connects to it: the client retransmits the same INIT (after 1 s, then 2 s
# more), the server answers each copy with its stored REPLY and keeps ONE SA.
# Neither helper has met .4 or ::4 before (the client was restarted for the
# policy step, the server just now).
LOST=(10.99.2.4 fd99:2::4)
declare -A LOST_RETX LOST_DROPPED LOST_DUP LOST_T0 LOST_T1
if [ $mode = full ]; then
	net_step "lost REPLY: the INIT is retransmitted, the responder keeps one SA"
	for a in "${LOST[@]}"; do
		case $a in
		*:*)
			cli=fd99:1::2 url="http://[$a]:8080/small"
			# IPv6: next header 253, the message starts Version 1, Type 2
			match="ip6 saddr $a meta l4proto 253 @th,0,16 0x0102"
			;;
		*)
			cli=10.99.2.1 url="http://$a:8080/small"
			# IPv4: UDP from port 4500, 12 zero octets, then Version 1, Type 2
			match="ip saddr $a udp sport 4500 @th,64,96 0 @th,160,16 0x0102"
			;;
		esac
		ctl_json client "$tmp/lost-client-before.json"
		ctl_json server "$tmp/lost-server-before.json"
		LOST_T0[$a]=$(date +%s.%N)
		if ! ip netns exec "$NET_R" nft -f - <<NFT 2>"$tmp/nft-lost.err"
table inet autosec_lost {
	chain lost {
		type filter hook forward priority filter; policy accept;
		$match counter drop
	}
}
NFT
		then
			net_bad "lost REPLY: nft does not take the rule '$match': $(tr '\n' ' ' <"$tmp/nft-lost.err")"
			continue
		fi
		net_bg "$NET_R" "$tmp/nft-lost-$a.log" sh -c \
			'sleep 2.5; nft list table inet autosec_lost; nft delete table inet autosec_lost'
		undrop=$NET_LAST_PID
		fetch "$url" "$sum_small" "1 MiB, REPLYs from $a dropped for the first 2.5 s" 40
		LOST_T1[$a]=$(date +%s.%N)
		for _ in $(seq 1 50); do kill -0 "$undrop" 2>/dev/null || break; sleep 0.1; done
		net_stop "$undrop"
		ip netns exec "$NET_R" nft delete table inet autosec_lost 2>/dev/null &&
			echo "   (the drop rule was still there: removed)"
		LOST_DROPPED[$a]=$(sed -n 's/.* counter packets \([0-9]*\) .*/\1/p' "$tmp/nft-lost-$a.log")
		if isnum "${LOST_DROPPED[$a]}" && [ "${LOST_DROPPED[$a]}" -ge 1 ]; then
			net_ok "lost REPLY: the router dropped ${LOST_DROPPED[$a]} REPLY(s) from $a ($match)"
		else
			net_bad "lost REPLY: the rule '$match' dropped '${LOST_DROPPED[$a]}' packets:" \
				"$(tr '\n' ' ' <"$tmp/nft-lost-$a.log")"
		fi
		ctl_json client "$tmp/lost-client-after.json"
		ctl_json server "$tmp/lost-server-after.json"
		# deltas of the counters and of the peers with the client's address
		read -r rb ra db da sb sa pb pa <<<"$( {
			jv "$tmp/lost-client-before.json" 'c("init_retx")'
			jv "$tmp/lost-client-after.json" 'c("init_retx")'
			jv "$tmp/lost-server-before.json" 'c("init_dup")'
			jv "$tmp/lost-server-after.json" 'c("init_dup")'
			jv "$tmp/lost-server-before.json" 'c("sa_created")'
			jv "$tmp/lost-server-after.json" 'c("sa_created")'
			jv "$tmp/lost-server-before.json" 'len(peers(a[0]))' "$cli"
			jv "$tmp/lost-server-after.json" 'len(peers(a[0]))' "$cli"
			} | tr '\n' ' ')"
		if isnum "$rb" && isnum "$ra" && [ $((ra - rb)) -ge 1 ]; then
			LOST_RETX[$a]=$((ra - rb))
			net_ok "lost REPLY: the client retransmitted the INIT to $a $((ra - rb)) times" \
				"(init_retx $rb -> $ra)"
		else
			net_bad "lost REPLY: the client's init_retx $rb -> $ra: no retransmission to $a"
		fi
		if isnum "$db" && isnum "$da" && [ $((da - db)) -ge 1 ]; then
			LOST_DUP[$a]=$((da - db))
			net_ok "lost REPLY: the server recognised $((da - db)) duplicate INIT(s)" \
				"(init_dup $db -> $da)"
		else
			net_bad "lost REPLY: the server's init_dup $db -> $da: no duplicate INIT recognised"
		fi
		# the client's SA and the server's entry with the same SPIs, crosswise
		cout=$(jv "$tmp/lost-client-after.json" 'one(a[0], "spi_out")' "$a")
		cin=$(jv "$tmp/lost-client-after.json" 'one(a[0], "spi_in")' "$a")
		cst=$(jv "$tmp/lost-client-after.json" 'one(a[0], "state")' "$a")
		match_n=$(jv "$tmp/lost-server-after.json" \
			'len([p for p in peers(a[0]) if p.get("spi_in") == a[1] and
			      p.get("spi_out") == a[2] and p["state"] == "up"])' \
			"$cli" "$cout" "$cin")
		if isnum "$sb" && isnum "$sa" && [ $((sa - sb)) -eq 1 ] && isnum "$pb" && isnum "$pa" &&
			[ $((pa - pb)) -eq 1 ] && [ "$match_n" = 1 ] && [ "$cst" = up ]; then
			net_ok "lost REPLY: one SA for $cli<->$a on the server: sa_created $sb -> $sa," \
				"entries for $cli $pb -> $pa, one with the client's SPIs (out $cout, in $cin)"
		else
			net_bad "lost REPLY: SAs for $cli<->$a on the server: sa_created $sb -> $sa (want +1)," \
				"entries for $cli $pb -> $pa (want +1), $match_n with the client's SPIs out $cout" \
				"in $cin (want 1); client state $cst"
		fi
		n=$(grep -c "INIT to $a " "$tmp/helper-client2.log")
		if [ "$n" = 1 ]; then
			net_ok "lost REPLY: the client's log has one handshake with $a (one 'INIT to $a' line)"
		else
			net_bad "lost REPLY: $n 'INIT to $a' lines in the client's log, want 1 (no new handshake)"
		fi
	done
fi

# lost_capture_check: during each lost-REPLY step the INITs on both links are
# identical copies, as many as the client sent, and the server's REPLYs to
# them are identical too; cli0 lacks the ones the router dropped.
lost_msgs() { # CAP ADDR T0 T1 TYPE: the messages of TYPE (0101 INIT to ADDR, 0102
	# REPLY from ADDR) between T0 and T1 in tshark-msgs-CAP.txt, one hex line each
	awk -F'\t' -v a="$2" -v t0="$3" -v t1="$4" -v ty="$5" '
		$1 + 0 < t0 + 0 || $1 + 0 > t1 + 0 { next }
		{
			m = $6 != "" ? substr($6, 25) : $7    # IPv4: after the 12-octet marker
			if (ty == "0101") peer = $3 != "" ? $3 : $5
			else peer = $2 != "" ? $2 : $4
		}
		peer == a && substr(m, 1, 4) == ty { print m }' "$tmp/tshark-msgs-$1.txt"
}
lost_capture_check() {
	local a cap sent want inits replies ninit nrep dinit drep
	local m4=00:00:00:00:00:00:00:00:00:00:00:00 # the marker in UDP 4500
	net_step "lost REPLY in the capture"
	# every AutoSEC message on each link; no ESP profile (nothing to decrypt
	# here, and tshark is much faster without)
	mkdir -p "$tmp/xdg-none"
	for cap in srv cli; do
		XDG_CONFIG_HOME=$tmp/xdg-none HOME=$tmp/xdg-none timeout 120 tshark -n -r "$tmp/$cap.pcap" \
			-Y "(udp.port == 4500 && udp.payload[0:12] == $m4) || ipv6.nxt == 253" \
			-T fields -E occurrence=f -e frame.time_epoch -e ip.src -e ip.dst -e ipv6.src \
			-e ipv6.dst -e udp.payload -e data.data >"$tmp/tshark-msgs-$cap.txt" 2>/dev/null ||
			net_bad "tshark on $cap.pcap (AutoSEC messages): exit $?"
	done
	for a in "${LOST[@]}"; do
		if ! isnum "${LOST_RETX[$a]:-}"; then
			net_bad "lost REPLY: no retransmission count for $a to check"
			continue
		fi
		sent=$((1 + LOST_RETX[$a]))
		for cap in srv cli; do
			# only this step's packets: the first client met .4 and ::4 earlier
			inits=$(lost_msgs $cap "$a" "${LOST_T0[$a]}" "${LOST_T1[$a]}" 0101)
			replies=$(lost_msgs $cap "$a" "${LOST_T0[$a]}" "${LOST_T1[$a]}" 0102)
			ninit=$(grep -c . <<<"$inits")
			nrep=$(grep -c . <<<"$replies")
			dinit=$(sort -u <<<"$inits" | grep -c .)
			drep=$(sort -u <<<"$replies" | grep -c .)
			# REPLYs: one for the INIT and one per duplicate, minus on cli0
			# (behind the router) the dropped ones
			want=$((1 + ${LOST_DUP[$a]:-0}))
			[ $cap = cli ] && want=$((want - ${LOST_DROPPED[$a]:-0}))
			if [ "$ninit" = "$sent" ] && [ "$dinit" = 1 ] && [ "$nrep" = "$want" ] &&
				[ "$drep" = 1 ]; then
				net_ok "lost REPLY on $cap.pcap: $ninit identical INITs to $a," \
					"$nrep identical REPLY(s) back (${LOST_DROPPED[$a]} dropped in the router)"
			else
				net_bad "lost REPLY on $cap.pcap: $ninit INITs to $a ($dinit distinct)," \
					"want $sent identical; $nrep REPLYs ($drep distinct), want $want identical"
			fi
		done
	done
}

net_step "the capture"
sleep 1
[ $mode != full ] || dump_state >"$tmp/state-before-stop.txt" 2>&1
net_capture_stop
if [ $mode = full ]; then
	# stop the helpers now, so that a sanitizer build reports leaks at exit
	for who in client server; do
		if [ $who = client ]; then pid=$C_HELPER_PID; else pid=$S_HELPER_PID; fi
		[ -n "$pid" ] || continue
		net_stop "$pid" TERM
		rc=$?
		if [ $rc -eq 0 ]; then
			net_ok "$who helper exits with status 0 on SIGTERM"
		else
			net_bad "$who helper: exit status $rc on SIGTERM (killed after 5 s if 137)"
		fi
	done
	C_HELPER_PID=
	S_HELPER_PID=
	san=$(grep -l -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$tmp"/helper-*.log 2>/dev/null)
	if [ -z "$san" ]; then
		net_ok "no sanitizer report in the helpers' logs"
	else
		net_bad "sanitizer reports in: $san"
		grep -h -A12 -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$tmp"/helper-*.log | head -40 | sed 's/^/    /'
	fi
fi
judge_all
[ $mode != full ] || lost_capture_check

# ---------------------------------------------------------------- the end
net_step "teardown (after ${SECONDS} s)"
[ "$NET_FAIL" -eq 0 ] || dump_state
[ -n "${KEEP:-}" ] && [ -s "$tmp/state-before-stop.txt" ] && echo "   state before stop in $tmp/state-before-stop.txt"
net_capture_stop
net_teardown
left=$(net_leftovers)
if [ -z "$left" ]; then
	net_ok "nothing left behind: no namespace or /etc/netns entry of this run"
else
	net_bad "left behind: $left"
fi
finished=1
echo "$NET_PASS passed, $NET_FAIL failed"
[ "$NET_FAIL" -eq 0 ]
