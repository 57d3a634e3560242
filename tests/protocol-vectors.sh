#!/usr/bin/env bash
# PROTOCOL.md section 7 must show exactly what the code produces.
#   tests/protocol-vectors.sh           compare (make check runs this)
#   tests/protocol-vectors.sh --update  rewrite the blocks from tests/vectors
set -euo pipefail
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
doc="$top_srcdir/docs/PROTOCOL.md"
gen="$top_builddir/tests/vectors"
[ -x "$gen" ] || { echo "FAIL: $gen not built (make check builds it)"; exit 1; }
[ -f "$doc" ] || { echo "FAIL: $doc missing"; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The fenced block that follows "<!-- vector: NAME -->" in the document.
extract() {
	awk -v name="$1" '
		$0 == "<!-- vector: " name " -->" { want = 1; next }
		want == 1 && /^```/ { want = 2; next }
		want == 2 && /^```/ { exit }
		want == 2 { print }
	' "$doc"
}

if [ "${1:-}" = "--update" ]; then
	cp "$doc" "$tmp/doc"
	for name in x25519-init rsa-init reply error esp-fs; do
		"$gen" "$name" > "$tmp/$name"
		awk -v name="$name" -v file="$tmp/$name" '
			$0 == "<!-- vector: " name " -->" { print; state = 1; next }
			state == 1 && /^```/ { print; while ((getline line < file) > 0) print line; state = 2; next }
			state == 2 && /^```/ { print; state = 0; next }
			state == 2 { next }
			{ print }
		' "$tmp/doc" > "$tmp/doc.new"
		mv "$tmp/doc.new" "$tmp/doc"
	done
	cp "$tmp/doc" "$doc"
	echo "updated $doc"
	exit 0
fi

pass=0 fail=0
for name in x25519-init rsa-init reply error esp-fs; do
	"$gen" "$name" > "$tmp/want"
	extract "$name" > "$tmp/have"
	if [ ! -s "$tmp/have" ]; then
		echo "FAIL: PROTOCOL.md has no vector block for $name"
		fail=$((fail + 1))
	elif diff -u "$tmp/have" "$tmp/want" > "$tmp/diff"; then
		echo "ok: section 7 vector $name matches the code ($(wc -l < "$tmp/want") lines)"
		pass=$((pass + 1))
	else
		echo "FAIL: section 7 vector $name differs from what the code produces:"
		head -40 "$tmp/diff"
		fail=$((fail + 1))
	fi
done
# No section of the specification may be left empty.
for n in 1 2 3 4 5 6 7 8; do
	if ! awk -v n="$n" '
		$0 ~ "^## " n "[. ]" { inside = 1; next }
		inside && /^## / { exit }
		inside && NF { words += NF }
		END { exit !(words > 40) }' "$doc"; then
		echo "FAIL: PROTOCOL.md section $n is missing or nearly empty"
		fail=$((fail + 1))
	else
		pass=$((pass + 1))
	fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
