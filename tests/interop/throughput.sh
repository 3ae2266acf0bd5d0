#!/usr/bin/env bash
# Producer throughput of kwire-broker against librdkafka's mock cluster, with
# the same client and the same load: kcat -P of COUNT messages of SIZE bytes
# into a fresh one-partition topic, RUNS times each, median reported, and the
# ratio kwire-broker / mock. Not a pass/fail test: numbers on a shared
# machine drift, the ratio less so.
#
#   tests/interop/throughput.sh --broker BUILD/examples/broker/kwire-broker
#       [--count 1000000] [--size 100] [--runs 3] [--fsync interval]
#       [--mock PATH]  (default: builds tests/interop/mock_cluster.c against
#                       librdkafka into a temporary directory)
#
# Each run is checked for completeness: the topic's end offset (kcat -Q) must
# equal COUNT, or the run counts as failed. Everything it starts listens on
# 127.0.0.1 and is stopped by PID on exit. Needs kcat and librdkafka-dev
# (.ci/install-interop).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
BROKER="" MOCK="" COUNT=1000000 SIZE=100 RUNS=3 FSYNC=interval
while [ $# -gt 0 ]; do
  case "$1" in
    --broker) BROKER=$2; shift 2 ;;
    --mock) MOCK=$2; shift 2 ;;
    --count) COUNT=$2; shift 2 ;;
    --size) SIZE=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --fsync) FSYNC=$2; shift 2 ;;
    *) sed -n '2,18p' "$0" >&2; exit 2 ;;
  esac
done
[ -x "$BROKER" ] || { echo "throughput: --broker PATH to kwire-broker is required" >&2; exit 2; }
command -v kcat >/dev/null || { echo "throughput: kcat not found (.ci/install-interop)" >&2; exit 2; }
[ "$RUNS" -ge 1 ] && [ "$RUNS" -le 10 ] || { echo "throughput: --runs 1..10" >&2; exit 2; }

work=$(mktemp -d /tmp/kwire-throughput.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -z "$MOCK" ]; then
  MOCK=$work/mock_cluster
  cc -O2 -o "$MOCK" "$here/mock_cluster.c" $(pkg-config --cflags --libs rdkafka)
fi

# COUNT lines of SIZE bytes (a line is a message; no key)
python3 - "$COUNT" "$SIZE" "$work/input" <<'PY'
import sys
n, size, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
with open(path, "wb") as f:
    for i in range(n):
        head = b"%d:" % i
        f.write(head + b"x" * max(0, size - len(head)) + b"\n")
PY

# starts a server; sets ADDR from its "... listening on ADDR" line
start() { # name, then argv
  local name=$1; shift
  "$@" >"$work/$name.out" 2>"$work/$name.err" &
  pids+=($!)
  local i
  for i in $(seq 1 100); do
    ADDR=$(sed -n 's/.*listening on \([^ ]*\).*/\1/p' "$work/$name.out" | head -1)
    [ -n "$ADDR" ] && return 0
    sleep 0.1
  done
  echo "throughput: $name did not start:" >&2
  cat "$work/$name.err" >&2
  exit 1
}

# one run: prints msgs/s, or FAIL
run() { # bootstrap, topic
  local t0 t1 end
  t0=$(date +%s.%N)
  # a queue that holds the whole load, so kcat never waits for room
  if ! timeout 300 kcat -P -b "$1" -t "$2" -X acks=all -X linger.ms=5 \
      -X queue.buffering.max.messages=1000000 -X queue.buffering.max.kbytes=1048576 \
      <"$work/input" 2>"$work/kcat.err"; then
    echo FAIL; return
  fi
  t1=$(date +%s.%N)
  end=$(kcat -Q -b "$1" -t "$2:0:-1" 2>/dev/null | sed -n 's/.*offset \([0-9-]*\).*/\1/p')
  if [ "$end" != "$COUNT" ]; then
    echo "throughput: $2: end offset $end, want $COUNT" >&2
    echo FAIL; return
  fi
  python3 -c "print(round($COUNT / ($t1 - $t0)))"
}

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

topics=()
for r in $(seq 1 "$RUNS"); do topics+=(-t "tp-$r"); done

start kwire "$BROKER" --listen 127.0.0.1:0 --data-dir "$work/data" --partitions 1 --fsync "$FSYNC"
KW=$ADDR
start mock "$MOCK" -p 1 -T 1800 "${topics[@]}"
MK=$ADDR

echo "throughput: kcat -P, $COUNT x $SIZE B, acks=all, linger.ms=5, $RUNS runs each; kwire-broker --fsync $FSYNC at $KW, librdkafka mock at $MK"
kw=() mk=()
for r in $(seq 1 "$RUNS"); do
  a=$(run "$KW" "tp-$r")
  b=$(run "$MK" "tp-$r")
  echo "  run $r: kwire-broker $a msgs/s, mock $b msgs/s"
  [ "$a" = FAIL ] || kw+=("$a")
  [ "$b" = FAIL ] || mk+=("$b")
done
[ ${#kw[@]} -gt 0 ] && [ ${#mk[@]} -gt 0 ] || { echo "throughput: failed runs" >&2; exit 1; }
m1=$(median "${kw[@]}")
m2=$(median "${mk[@]}")
python3 - "$m1" "$m2" "$SIZE" <<'PY'
import sys
a, b, size = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
print("throughput: median kwire-broker %d msgs/s (%.1f MB/s), mock %d msgs/s (%.1f MB/s), ratio %.2f"
      % (a, a * size / 1e6, b, b * size / 1e6, a / b))
PY
