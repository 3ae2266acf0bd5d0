#!/usr/bin/env bash
# A single-node Apache Kafka 4.4 (KRaft, combined broker and controller) on
# 127.0.0.1 for the tests, from the jars .ci/install-kafka puts in tests/kafka/lib.
#
#   kafka.sh start DIR   format DIR, start the node, wait until it answers,
#                        write DIR/kafka.pid, print the bootstrap address
#   kafka.sh stop DIR    stop the process in DIR/kafka.pid (TERM, then KILL)
#
# Ports come from the environment or are chosen free at start:
#   KAFKA_PORT             client listener (PLAINTEXT)
#   KAFKA_ADVERTISED_PORT  port advertised for PLAINTEXT in metadata (default KAFKA_PORT);
#                          point it at a relay to have clients go through it
#   KAFKA_INTERNAL_PORT    inter-broker listener (never relayed)
#   KAFKA_CONTROLLER_PORT  controller listener
# KAFKA_LIB overrides the jar directory; KAFKA_START_TIMEOUT (seconds, default 90).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
lib=${KAFKA_LIB:-$here/lib}

die() { echo "kafka.sh: $*" >&2; exit 1; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# One ApiVersions v0 round trip: the broker opens request processing only once
# it has caught up with the metadata log and is unfenced.
probe() {
  python3 - "$1" <<'EOF'
import socket, struct, sys
try:
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2)
    body = struct.pack(">hhih", 18, 0, 1, 5) + b"probe"
    s.sendall(struct.pack(">i", len(body)) + body)
    head = s.recv(4)
    n = struct.unpack(">i", head)[0] if len(head) == 4 else 0
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            break
        data += chunk
    ok = len(data) == n and n >= 6 and data[4:6] == b"\0\0"
    sys.exit(0 if ok else 1)
except OSError:
    sys.exit(1)
EOF
}

start() {
  local dir=$1
  compgen -G "$lib/kafka_2.13-*.jar" >/dev/null || die "no Kafka jars in $lib (run .ci/install-kafka)"
  command -v java >/dev/null || die "java not found"
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if [ -f "$dir/kafka.pid" ] && kill -0 "$(cat "$dir/kafka.pid")" 2>/dev/null; then
    die "a node already runs from $dir (pid $(cat "$dir/kafka.pid"))"
  fi
  local port=${KAFKA_PORT:-$(free_port)}
  local adv=${KAFKA_ADVERTISED_PORT:-$port}
  local internal=${KAFKA_INTERNAL_PORT:-$(free_port)}
  local controller=${KAFKA_CONTROLLER_PORT:-$(free_port)}
  local timeout=${KAFKA_START_TIMEOUT:-90}
  # A new cluster on every start: the storage tool refuses a formatted directory.
  rm -rf "$dir/data"

  cat > "$dir/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$controller
listeners=PLAINTEXT://127.0.0.1:$port,INTERNAL://127.0.0.1:$internal,CONTROLLER://127.0.0.1:$controller
advertised.listeners=PLAINTEXT://127.0.0.1:$adv,INTERNAL://127.0.0.1:$internal
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=INTERNAL
controller.listener.names=CONTROLLER
log.dirs=$dir/data
num.partitions=1
default.replication.factor=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
share.coordinator.state.topic.num.partitions=1
min.insync.replicas=1
group.initial.rebalance.delay.ms=0
group.consumer.heartbeat.interval.ms=1000
group.consumer.min.heartbeat.interval.ms=1000
group.share.heartbeat.interval.ms=1000
group.share.min.heartbeat.interval.ms=1000
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:ANONYMOUS
allow.everyone.if.no.acl.found=false
sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512
auto.create.topics.enable=false
delete.topic.enable=true
num.network.threads=2
num.io.threads=2
background.threads=2
log.cleaner.enable=false
EOF
  local id
  id=$(java -cp "$lib/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -1)
  java -cp "$lib/*" kafka.tools.StorageTool format --config "$dir/server.properties" \
    --cluster-id "$id" --standalone > "$dir/format.log" 2>&1 \
    || { cat "$dir/format.log" >&2; die "formatting $dir failed"; }

  # In the caller's process group: a test runner that kills the group on a
  # timeout takes the node with it.
  java -Xms128m -Xmx512m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
    -Djava.awt.headless=true -cp "$lib/*" kafka.Kafka "$dir/server.properties" \
    > "$dir/kafka.out" 2>&1 < /dev/null &
  local pid=$!
  echo "$pid" > "$dir/kafka.pid"
  echo "$port" > "$dir/port"
  echo "$adv" > "$dir/advertised-port"

  local waited=0
  until probe "$port"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 40 "$dir/kafka.out" >&2 || true
      die "the node exited during start (see $dir/kafka.out)"
    fi
    if [ "$waited" -ge "$timeout" ]; then
      stop "$dir"
      die "the node did not answer on 127.0.0.1:$port within ${timeout}s"
    fi
    sleep 1
    waited=$((waited + 1))
  done
  echo "127.0.0.1:$adv"
}

stop() {
  local dir=$1
  [ -f "$dir/kafka.pid" ] || return 0
  local pid
  pid=$(cat "$dir/kafka.pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    local i=0
    while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 30 ]; do
      sleep 1
      i=$((i + 1))
    done
    if kill -0 "$pid" 2>/dev/null; then
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$dir/kafka.pid"
}

case "${1:-}" in
  start) [ $# -eq 2 ] || die "usage: kafka.sh start DIR"; start "$2" ;;
  stop) [ $# -eq 2 ] || die "usage: kafka.sh stop DIR"; stop "$2" ;;
  *) die "usage: kafka.sh start|stop DIR" ;;
esac
