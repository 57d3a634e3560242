#!/usr/bin/env bash
# Installs the Debian 12 packages autosec needs to build, test and demo.
# Does nothing (and needs no network) when they are all present already.
set -euo pipefail
pkgs=(
	build-essential autoconf automake libtool pkg-config
	libssl-dev libc-ares-dev uthash-dev check
	clang libclang-rt-14-dev
	nsd dnsutils python3 libmnl-dev
	iproute2 nftables tshark curl socat procps python3-cryptography
)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep >/dev/null -c 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps: all ${#pkgs[@]} packages present"
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages: ${missing[*]}; run as root (sudo)" >&2
	exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# nsd's package starts a system nsd on port 53; the tests run their own on
# high ports and do not need it.
if command -v systemctl >/dev/null 2>&1; then systemctl stop nsd 2>/dev/null || true; fi
echo "install-deps: done"
