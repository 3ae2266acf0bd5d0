#!/usr/bin/python3
"""Interop round trip with kafka-python (a pure-Python client, independent
of librdkafka).

  kafka_python_driver.py --bootstrap HOST:PORT --topic T [--count N] [--partitions P]
                         [--group G] [--timeout S] [--no-create]

1. KafkaAdminClient.create_topics with P partitions; the consumer's metadata
   must then show P.
2. Produce N keyed messages with headers (acks=all); every future must
   resolve and its (partition, offset) is remembered.
3. Consume through a consumer group (subscribe, earliest); every message
   once, intact, in order per partition, where its future said.
4. Commit; committed() must equal end_offsets() and the number of messages
   of every partition.
Last line: "kafka-python: N passed, M failed"; exit 1 on failure.
"""
import logging
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
from common import log  # noqa: E402

import kafka  # noqa: E402
from kafka import KafkaConsumer, KafkaProducer, TopicPartition  # noqa: E402
from kafka.admin import KafkaAdminClient, NewTopic  # noqa: E402

CLIENT = "kafka-python"


def create_topic(a):
    try:
        admin = KafkaAdminClient(bootstrap_servers=a.bootstrap, request_timeout_ms=15000)
        admin.create_topics([NewTopic(a.topic, num_partitions=a.partitions, replication_factor=1)],
                            timeout_ms=10000)
        admin.close()
        log("create_topics %s: ok" % a.topic)
        return 0
    except Exception as e:  # noqa: BLE001 - any failure is reported and counted
        log("create_topics %s failed: %r" % (a.topic, e))
        return 1


def produce(a):
    p = KafkaProducer(bootstrap_servers=a.bootstrap, acks="all", linger_ms=5,
                      request_timeout_ms=int(a.timeout * 1000))
    log("producer api_version %s" % (p.config["api_version"],))
    t0 = time.time()
    futs = [p.send(a.topic, key=common.key(i), value=common.value(a.run, i),
                   headers=common.headers(i)) for i in range(a.count)]
    p.flush(timeout=a.timeout)
    delivered = [None] * a.count
    errors = 0
    for i, f in enumerate(futs):
        try:
            md = f.get(timeout=max(0.1, t0 + a.timeout - time.time()))
            delivered[i] = (md.partition, md.offset)
        except Exception as e:  # noqa: BLE001
            errors += 1
            if errors <= 5:
                log("  delivery of %d failed: %r" % (i, e))
    p.close(timeout=10)
    ok = a.count - errors
    log("produce: %d delivered, %d errors in %.2f s" % (ok, errors, time.time() - t0))
    return delivered, errors


def consume(a, delivered):
    c = KafkaConsumer(bootstrap_servers=a.bootstrap, group_id=a.group,
                      auto_offset_reset="earliest", enable_auto_commit=False,
                      session_timeout_ms=6000, heartbeat_interval_ms=2000)
    t0 = time.time()
    deadline = t0 + a.timeout
    extra = 0
    parts = None
    while time.time() < deadline:
        parts = c.partitions_for_topic(a.topic)
        if parts:
            break
        time.sleep(0.2)
    if len(parts or ()) != a.partitions:
        log("metadata shows partitions %s for %s, want %d" % (sorted(parts or ()), a.topic, a.partitions))
        extra += 1
    v = common.Verifier(a.count, "group consume (%s)" % a.group,
                        lambda i: common.value(a.run, i), common.headers)
    c.subscribe([a.topic])
    while not v.done() and time.time() < deadline:
        for _tp, msgs in c.poll(timeout_ms=500, max_records=5000).items():
            for m in msgs:
                v.add(m.partition, m.offset, m.key, m.value, m.headers)
    for _tp, msgs in c.poll(timeout_ms=1000).items():
        for m in msgs:
            v.add(m.partition, m.offset, m.key, m.value, m.headers)
    log("consume: %d messages in %.2f s" % (v.unique, time.time() - t0))
    passed, failed = v.check(delivered)
    try:
        c.commit()
    except Exception as e:  # noqa: BLE001
        log("commit failed: %r" % (e,))
        extra += 1
    tps = [TopicPartition(a.topic, p) for p in range(a.partitions)]
    committed, ends = {}, {}
    try:
        ends = {tp.partition: off for tp, off in c.end_offsets(tps).items()}
        for tp in tps:
            committed[tp.partition] = c.committed(tp)
    except Exception as e:  # noqa: BLE001
        log("committed/end_offsets failed: %r" % (e,))
        extra += 1
    extra += common.compare_offsets("offsets", committed, ends, v.counts())
    c.close()
    return passed, failed + extra


def main():
    logging.basicConfig(level=os.environ.get("KP_LOG", "ERROR"))
    a = common.parse_args(CLIENT)
    log("%s %s" % (CLIENT, kafka.__version__))
    extra = 0 if a.no_create else create_topic(a)
    delivered, undelivered = produce(a)
    passed, failed = consume(a, delivered)
    return common.summary(CLIENT, passed, failed + extra + undelivered)


if __name__ == "__main__":
    sys.exit(main())
