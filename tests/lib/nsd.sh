# shellcheck shell=bash
# Runs a real authoritative NSD on 127.0.0.1 for the tests and the demo.
#   nsd_start DIR ZONE_ORIGIN ZONE_FILE   -> sets NSD_PORT and NSD_PID
#   nsd_stop
# The caller owns DIR and must call nsd_stop from its EXIT trap.
NSD_PID=""
NSD_PORT=""

nsd_start() {
	local dir=$1 origin=$2 zonefile=$3 port tries=0
	PATH=$PATH:/usr/sbin:/sbin
	command -v nsd >/dev/null || { echo "nsd is not installed (apt-get install nsd)" >&2; return 1; }
	command -v dig >/dev/null || { echo "dig is not installed (apt-get install dnsutils)" >&2; return 1; }
	while :; do
		port=$((20000 + RANDOM % 20000))
		cat > "$dir/nsd.conf" <<CONF
server:
	ip-address: 127.0.0.1@$port
	port: $port
	username: ""
	chroot: ""
	zonesdir: "$dir"
	pidfile: "$dir/nsd.pid"
	xfrdfile: "$dir/xfrd.state"
	zonelistfile: "$dir/zone.list"
	database: ""
	logfile: "$dir/nsd.log"
	server-count: 1
	verbosity: 1
	hide-version: yes
remote-control:
	control-enable: no
zone:
	name: "$origin"
	zonefile: "$zonefile"
CONF
		nsd -c "$dir/nsd.conf" -d > "$dir/nsd.out" 2>&1 &
		NSD_PID=$!
		NSD_PORT=$port
		# ready when it answers the zone's SOA; bounded to 10 s
		for _ in $(seq 1 50); do
			if dig +time=1 +tries=1 +short @127.0.0.1 -p "$port" "$origin" SOA 2>/dev/null | grep -q .; then
				return 0
			fi
			kill -0 "$NSD_PID" 2>/dev/null || break
			sleep 0.2
		done
		nsd_stop
		tries=$((tries + 1))
		if [ "$tries" -ge 3 ]; then
			echo "nsd did not start; its output:" >&2
			cat "$dir/nsd.out" "$dir/nsd.log" >&2 2>/dev/null || true
			return 1
		fi
	done
}

nsd_stop() {
	if [ -n "$NSD_PID" ]; then
		kill "$NSD_PID" 2>/dev/null || true
		wait "$NSD_PID" 2>/dev/null || true
		NSD_PID=""
	fi
}
