#!/usr/bin/env bash
# live.sh KAFKA_LIVE [KWIRE_DUMP]: Apache Kafka 4.4 on 127.0.0.1 (kafka.sh),
# Workload.java through relay.py, then every captured frame through kwire
# (KAFKA_LIVE, and kwire-dump over the pcap when given). Exit 77 without the
# jars, java or javac. KAFKA_LIVE_KEEP=DIR copies the capture there.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
live=$1
dump=${2:-}
lib=${KAFKA_LIB:-$here/lib}

if ! compgen -G "$lib/kafka-clients-*.jar" >/dev/null; then
  echo "no Kafka jars in $lib (.ci/install-kafka installs them): skipped"
  exit 77
fi
for tool in java javac python3; do
  command -v "$tool" >/dev/null || { echo "$tool not found: skipped"; exit 77; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kwire-kafka-live.XXXXXX")
relay_pid=
workload_pid=
cleanup() {
  [ -n "$workload_pid" ] && kill -KILL "$workload_pid" 2>/dev/null
  [ -n "$relay_pid" ] && kill -TERM "$relay_pid" 2>/dev/null
  KAFKA_LIB=$lib bash "$here/kafka.sh" stop "$tmp/node"
  [ -n "$relay_pid" ] && wait "$relay_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
t0=$SECONDS
# Compile while nothing else runs; the JVMs share two cores.
mkdir -p "$tmp/classes"
javac -nowarn -d "$tmp/classes" -cp "$lib/*" "$here/Workload.java" 2>&1 | grep -v '^Note:\|deprecat\|^ *\^\|ConsumerGroupMetadata\|^1 warning' >&2
[ -f "$tmp/classes/Workload.class" ] || { echo "javac failed"; exit 1; }
echo "live: Workload compiled in $((SECONDS - t0)) s"

relay_port=$(free_port)
broker_port=$(free_port)
t1=$SECONDS
if ! KAFKA_LIB=$lib KAFKA_PORT=$broker_port KAFKA_ADVERTISED_PORT=$relay_port \
    bash "$here/kafka.sh" start "$tmp/node"; then
  echo "the broker did not start"
  exit 1
fi
echo "live: broker up in $((SECONDS - t1)) s (pid $(cat "$tmp/node/kafka.pid"))"
python3 "$here/relay.py" --listen "$relay_port" --target "127.0.0.1:$broker_port" \
  --out "$tmp/capture" > "$tmp/relay.log" 2>&1 &
relay_pid=$!
for _ in $(seq 50); do
  grep -q '^relay:' "$tmp/relay.log" 2>/dev/null && break
  sleep 0.1
done

t2=$SECONDS
# In the background and waited for, so that a TERM (meson's timeout) runs the
# trap at once rather than after the JVM is done.
java -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
  -cp "$lib/*:$tmp/classes" Workload "127.0.0.1:$relay_port" > "$tmp/workload.log" 2>&1 &
workload_pid=$!
wait "$workload_pid"
workload_pid=
grep -v '^SLF4J' "$tmp/workload.log"
echo "live: workload ran $((SECONDS - t2)) s"
line=$(grep '^workload: ' "$tmp/workload.log" | tail -n 1)
status=0
case "$line" in
  "workload: "*" passed, 0 failed") ;;
  *) echo "the workload did not pass"; status=1 ;;
esac

# Every frame is in index.tsv once the clients are gone; stop the relay first.
kill -TERM "$relay_pid" 2>/dev/null
wait "$relay_pid" 2>/dev/null
relay_pid=
KAFKA_LIB=$lib bash "$here/kafka.sh" stop "$tmp/node"
if [ -n "${KAFKA_LIVE_KEEP:-}" ]; then
  mkdir -p "$KAFKA_LIVE_KEEP" && cp -r "$tmp/capture/." "$KAFKA_LIVE_KEEP/"
fi

"$live" "$tmp/capture" > "$tmp/live.log"
live_status=$?
grep '^FAIL' "$tmp/live.log" | head -n 40
grep -v '^FAIL' "$tmp/live.log"
[ "$live_status" -eq 0 ] || status=1
if [ -n "$dump" ]; then
  if ! "$dump" --roundtrip -s -q -p "$relay_port" "$tmp/capture/session.pcap" > "$tmp/dump.log" 2>&1; then
    status=1
  fi
  tail -n 2 "$tmp/dump.log"
fi
echo "live: $((SECONDS - t0)) s in all"
exit $status
