#!/usr/bin/env bash
# compare.sh measures bench's load generator side by side with vegeta and
# wrk, in one run, against the same trivial HTTP server on 127.0.0.1
# (bench/perf/trivialserver), interleaving the tools and repeating each
# measure REPS times; the table gives the medians.
#
#   go install github.com/tsenart/vegeta/v12@v12.13.0; apt-get install -y wrk
#   bench/perf/compare.sh                 # all measures
#   DUR=20 REPS=3 RATES="4000 6000 8000" bench/perf/compare.sh open closed lateness rss
#
# Measures (each a function below):
#   closed    requests/s with 8 and 64 connections (wrk -t2 -cN; bench --stages 0s:N,DURs:N)
#   open      highest rate of RATES held with < 0.1% dropped or failed and >= 99% of the
#             rate sent (vegeta -rate R; bench --rate 0s:R,DURs:R --max-in-flight MAX_IN_FLIGHT,
#             default 10000: vegeta's workers are unbounded by default, so bench may keep as
#             many requests in flight before it drops one)
#   lateness  p50 latency at 50 req/s against the server delaying 20 ms (vegeta; bench),
#             and bench's own send-lag p50
#   rss       anonymous resident memory at 2,000 req/s for RSS_DURS seconds each (default
#             "20 60"): the tool (bench load --no-charts; vegeta attack) runs in the background
#             and RssAnon and VmHWM are read from its /proc/PID/status every 100 ms until it
#             exits; per tool the medians of peak RssAnon, RssAnon at the end (the last sample)
#             and peak VmHWM (the last sample, VmHWM never falls), the ratio bench/vegeta, and
#             the growth of peak RssAnon from the shortest RSS_DURS run to the longest;
#             each run's figures are printed too, with its peak number of open fds, its
#             number of samples, how long it ran and its exit status.
#             RssAnon is heap and stacks; VmHWM adds the file-backed pages of the program
#             (text, data), which are shared, reclaimable and do not scale with load
# BENCH_BIN=path measures that bench binary instead of building ./bench (e.g. one built
# from a commit: git archive COMMIT | tar -x -C DIR; cd DIR/bench; GOWORK=off go build).
# The machine's load average is printed before and after: other work on it
# lowers every tool's figures.
set -euo pipefail
cd "$(dirname "$0")/../.."
DUR=${DUR:-20}
REPS=${REPS:-3}
RATES=${RATES:-"4000 6000 8000 10000"}
RSS_DURS=${RSS_DURS:-"20 60"}
MAX_IN_FLIGHT=${MAX_IN_FLIGHT:-10000}
VEGETA=${VEGETA:-$(go env GOPATH)/bin/vegeta}
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$WORK"' EXIT
MEASURES=${*:-closed open lateness rss}

if [ -n "${BENCH_BIN:-}" ]; then cp "$BENCH_BIN" "$WORK/bench"; else (cd bench && GOWORK=off go build -o "$WORK/bench" .); fi
(cd bench && GOWORK=off go build -o "$WORK/trivial" ./perf/trivialserver)
"$WORK/trivial" -addr 127.0.0.1:18181 & 
"$WORK/trivial" -addr 127.0.0.1:18182 -delay 20ms &
sleep 0.5
FAST=http://127.0.0.1:18181/
SLOW=http://127.0.0.1:18182/
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
# ours RUN_ARGS... : run bench load quietly, print summary.json's path
ours() { local out="$WORK/ours-$RANDOM"; "$WORK/bench" load --no-charts --out "$out" "$@" >/dev/null 2>&1 || true; echo "$out/summary.json"; }
jqn() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); t=d['scenarios'][0]['endpoints'][0]['total']; print(eval(sys.argv[2]))" "$@"; }

closed() {
  for c in 8 64; do
    : > "$WORK/wrk-$c"; : > "$WORK/ours-c$c"
    for _ in $(seq "$REPS"); do
      wrk -t2 -c"$c" -d"${DUR}s" "$FAST" | awk '/Requests\/sec/ {print $2}' >> "$WORK/wrk-$c"
      jqn "$(ours --url "$FAST" --stages "0s:$c,${DUR}s:$c")" "t['throughput_rps']" >> "$WORK/ours-c$c"
    done
    echo "closed $c connections: bench $(median < "$WORK/ours-c$c") req/s, wrk $(median < "$WORK/wrk-$c") req/s  (runs: bench $(paste -sd' ' "$WORK/ours-c$c"); wrk $(paste -sd' ' "$WORK/wrk-$c"))"
  done
}

open() {
  for r in $RATES; do
    : > "$WORK/veg-$r"; : > "$WORK/ours-o$r"
    for _ in $(seq "$REPS"); do
      echo "GET $FAST" | "$VEGETA" attack -rate "$r" -duration "${DUR}s" -timeout 30s | "$VEGETA" report -type json > "$WORK/v.json"
      python3 -c "import json,sys; d=json.load(open(sys.argv[1])); r=float(sys.argv[2]); print(int(d['success']>=0.999 and d['rate']>=0.99*r))" "$WORK/v.json" "$r" >> "$WORK/veg-$r"
      s=$(ours --url "$FAST" --rate "0s:$r,${DUR}s:$r" --max-in-flight "$MAX_IN_FLIGHT")
      jqn "$s" "int((t['requests']+t['dropped']-t['status_2xx'])/(t['requests']+t['dropped'])<0.001 and t['requests']/$DUR>=0.99*$r)" >> "$WORK/ours-o$r"
      jqn "$s" "'  bench %d req/s: %d sent, %d dropped, %d failed, send lag p99 %.1f ms' % ($r, t['requests'], t['dropped'], t['requests']-t['status_2xx'], t['send_lag_ms']['p99_ms'])"
      python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print('  vegeta %s req/s: %d sent at %.0f/s, success %.4f' % (sys.argv[2], d['requests'], d['rate'], d['success']))" "$WORK/v.json" "$r"
    done
    echo "open $r req/s held (1 = yes, per run): bench $(paste -sd' ' "$WORK/ours-o$r"), vegeta $(paste -sd' ' "$WORK/veg-$r")"
  done
}

lateness() {
  : > "$WORK/veg-l"; : > "$WORK/ours-l"; : > "$WORK/ours-lag"
  for _ in $(seq "$REPS"); do
    echo "GET $SLOW" | "$VEGETA" attack -rate 50 -duration "${DUR}s" | "$VEGETA" report -type json > "$WORK/v.json"
    python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['latencies']['50th']/1e6)" "$WORK/v.json" >> "$WORK/veg-l"
    s=$(ours --url "$SLOW" --rate "0s:50,${DUR}s:50")
    jqn "$s" "t['latency_ms']['p50_ms']" >> "$WORK/ours-l"
    jqn "$s" "t['send_lag_ms']['p50_ms']" >> "$WORK/ours-lag"
  done
  echo "p50 at 50 req/s on the 20 ms server: bench $(median < "$WORK/ours-l") ms (send lag p50 $(median < "$WORK/ours-lag") ms), vegeta $(median < "$WORK/veg-l") ms"
}

# sample PID OUT: every 100 ms append "RssAnon VmHWM fds" to OUT, read from
# /proc/PID/status (kB) and /proc/PID/fd (open file descriptors, sockets mostly), until
# PID has exited or is a zombie (which has no memory lines); then reap it and set
# SAMPLED to "seconds-it-ran exit-status", so that a run that ended early shows
sample() {
  local pid=$1 out=$2 k v a h st fds t0=$EPOCHREALTIME rc=0
  : > "$out"
  while :; do
    a=; h=; st=
    while read -r k v _; do
      case $k in State:) st=$v ;; RssAnon:) a=$v ;; VmHWM:) h=$v ;; esac
    done 2>/dev/null < "/proc/$pid/status" || true
    case $st in ''|Z|X) break ;; esac
    if [ -n "$a" ] && [ -n "$h" ]; then
      fds=(/proc/"$pid"/fd/*)
      echo "$a $h ${#fds[@]}" >> "$out"
    fi
    sleep 0.1
  done
  wait "$pid" 2>/dev/null || rc=$?
  SAMPLED="$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.1f", b-a}') $rc"
}
# memrow FILE: the samples' peak RssAnon, last RssAnon, peak VmHWM, peak fds, count,
# then $SAMPLED
memrow() { awk -v x="$SAMPLED" '$1>a {a=$1} $2>h {h=$2} $3>f {f=$3} {e=$1} END {print a+0, e+0, h+0, f+0, NR, x}' "$1"; }
kib() { awk -v k="$1" 'BEGIN {printf "%d kB (%.1f MiB)", k, k/1024}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b>0) printf "%.2f", a/b; else print "-"}'; }

rss() {
  printf 'GET %s\n' "$FAST" > "$WORK/targets"
  for d in $RSS_DURS; do
    : > "$WORK/veg-m$d"; : > "$WORK/ours-m$d"
    for _ in $(seq "$REPS"); do
      "$VEGETA" attack -targets "$WORK/targets" -rate 2000 -duration "${d}s" > /dev/null &
      sample $! "$WORK/s"
      memrow "$WORK/s" >> "$WORK/veg-m$d"
      "$WORK/bench" load --no-charts --out "$WORK/rss-$RANDOM" --url "$FAST" --rate "0s:2000,${d}s:2000" >/dev/null 2>&1 &
      sample $! "$WORK/s"
      memrow "$WORK/s" >> "$WORK/ours-m$d"
    done
    local c bo ve
    echo "anonymous memory at 2000 req/s for ${d}s, medians of $REPS (runs as peak RssAnon, end RssAnon, peak VmHWM in kB, peak open fds, samples, seconds, exit status):"
    for c in 1:"peak RssAnon" 2:"end RssAnon" 3:"peak VmHWM"; do
      bo=$(cut -d' ' -f"${c%%:*}" "$WORK/ours-m$d" | median)
      ve=$(cut -d' ' -f"${c%%:*}" "$WORK/veg-m$d" | median)
      echo "  ${c#*:}: bench $(kib "$bo"), vegeta $(kib "$ve"), bench/vegeta $(ratio "$bo" "$ve")"
    done
    echo "  runs: bench $(paste -sd, "$WORK/ours-m$d"); vegeta $(paste -sd, "$WORK/veg-m$d")"
    echo "  load average: $(cut -d' ' -f1-3 /proc/loadavg)"
  done
  local lo hi
  lo=$(printf '%s\n' $RSS_DURS | sort -g | head -1); hi=$(printf '%s\n' $RSS_DURS | sort -g | tail -1)
  if [ "$lo" != "$hi" ]; then
    bo=$(awk -v a="$(cut -d' ' -f1 "$WORK/ours-m$hi" | median)" -v b="$(cut -d' ' -f1 "$WORK/ours-m$lo" | median)" 'BEGIN {print a-b}')
    ve=$(awk -v a="$(cut -d' ' -f1 "$WORK/veg-m$hi" | median)" -v b="$(cut -d' ' -f1 "$WORK/veg-m$lo" | median)" 'BEGIN {print a-b}')
    echo "growth of median peak RssAnon from ${lo}s to ${hi}s: bench $bo kB, vegeta $ve kB"
  fi
}

for m in $MEASURES; do "$m"; done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
