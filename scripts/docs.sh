#!/usr/bin/env bash
# Regenerates what README.md and docs/*.md show of bench, so that it cannot
# drift (make docs):
#
#   1. every fenced block after <!-- bench help VERB --> becomes that verb's
#      --help (go test ./bench -run TestDocsHelp -update-docs);
#   2. everything between <!-- bench output: ARGS --> and
#      <!-- end bench output --> becomes a console block with the command
#      'bench ARGS' and what it printed on stdout, run for real here: the
#      local target, a trivial HTTP server on 127.0.0.1:18080
#      (bench/perf/trivialserver), and the two matrix runs that
#      docs/compare.md compares, made first. ARGS are shell words, run from
#      the repository root; their results go under bench-results/docs/,
#      removed at the end;
#   3. go test ./bench -run TestDocs checks the result.
#
# It takes a few minutes on 2 cores (the local benchmark runs). Exit status:
# 0 when everything was regenerated and checked, 1 otherwise.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
GO=${GO:-go}
SERVER_ADDR=127.0.0.1:18080
RESULTS=bench-results/docs

tmp=$(mktemp -d)
server_pid=
cleanup() {
	if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
	rm -rf "$tmp" "$RESULTS"
}
trap cleanup EXIT

status=0
start=$SECONDS

echo "docs: the --help blocks"
if ! (cd bench && GOWORK=off "$GO" test -count=1 -run 'TestDocsHelp$' -update-docs .); then
	echo "docs: some --help blocks could not be regenerated (above); going on with the outputs" >&2
	status=1
fi

echo "docs: building bench and the trivial server"
(cd bench && GOWORK=off "$GO" build -trimpath -o "$tmp/bench" . && GOWORK=off "$GO" build -o "$tmp/trivialserver" ./perf/trivialserver)

if (exec 3<>"/dev/tcp/${SERVER_ADDR%:*}/${SERVER_ADDR#*:}") 2>/dev/null; then
	echo "docs: $SERVER_ADDR is taken: the docs' load example needs it for bench/perf/trivialserver" >&2
	exit 1
fi
"$tmp/trivialserver" -addr "$SERVER_ADDR" -delay 2ms &
server_pid=$!

rm -rf "$RESULTS"
mkdir -p "$RESULTS"

# run_bench runs ARGS (shell words) from the repository root; its stdout goes to
# $1, its stderr to $1.err. Exit statuses 0 and 99 (a gate that failed, as
# an example may show) are outputs; anything else stops the script.
run_bench() {
	local out=$1 args=$2 t0=$SECONDS rc=0
	eval "set -- $args"
	"$tmp/bench" "$@" </dev/null >"$out" 2>"$out.err" || rc=$?
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 99 ]; then
		echo "docs: bench $args: exit status $rc" >&2
		tail -n 20 "$out.err" >&2
		return 1
	fi
	echo "  bench $args  ($((SECONDS - t0)) s, exit status $rc)"
}

echo "docs: the results folders docs/compare.md compares"
run_bench "$tmp/setup1" "matrix --memory 1536,2048 --runs 10 --payload '{\"count\":20,\"mode\":\"parallel\",\"cost\":5}' --out $RESULTS/cost5"
run_bench "$tmp/setup2" "matrix --memory 1536,2048 --runs 10 --payload '{\"count\":20,\"mode\":\"parallel\",\"cost\":6}' --out $RESULTS/cost6"

files=(README.md docs/*.md)
starts=$(grep -c '^<!-- bench output: .* -->$' "${files[@]}" | awk -F: '{s += $2} END {print s + 0}')
ends=$(grep -c '^<!-- end bench output -->$' "${files[@]}" | awk -F: '{s += $2} END {print s + 0}')
if [ "$starts" != "$ends" ]; then
	echo "docs: $starts bench output markers but $ends end markers" >&2
	exit 1
fi

echo "docs: the outputs ($starts)"
for f in "${files[@]}"; do
	grep -q '^<!-- bench output: .* -->$' "$f" || continue
	key=$tmp/$(echo "$f" | tr '/' '_')
	k=0
	while IFS= read -r args; do
		k=$((k + 1))
		run_bench "$key.$k.stdout" "$args"
		{
			echo '```console'
			echo "\$ bench $args"
			# without the blank lines at its start and end
			awk 'NF { while (blank > 0) { print ""; blank-- } print; seen = 1; next } seen { blank++ }' "$key.$k.stdout"
			echo '```'
		} >"$key.$k"
	done < <(sed -n 's/^<!-- bench output: \(.*\) -->$/\1/p' "$f")
	awk -v key="$key" '
		skip && $0 == "<!-- end bench output -->" { skip = 0 }
		skip { next }
		{ print }
		/^<!-- bench output: .* -->$/ {
			k++
			while ((getline line < (key "." k)) > 0) print line
			close(key "." k)
			skip = 1
		}
	' "$f" >"$key.md"
	if ! cmp -s "$key.md" "$f"; then
		cat "$key.md" >"$f"
		echo "  rewrote $f"
	fi
done

echo "docs: checking (go test ./bench -run TestDocs)"
if ! (cd bench && GOWORK=off "$GO" test -count=1 -run 'TestDocs' .); then
	status=1
fi
echo "docs: done in $((SECONDS - start)) s"
exit $status
