#!/usr/bin/python3
"""Interop round trip with confluent-kafka-python (librdkafka underneath).

  confluent_driver.py --bootstrap HOST:PORT --topic T [--count N] [--partitions P]
                      [--group G] [--timeout S] [--no-create]

1. AdminClient.create_topics with P partitions; Metadata must then show P.
2. Produce N keyed messages with headers (acks=all); every delivery report
   must be a success and its (partition, offset) is remembered.
3. Consume through a consumer group (subscribe, earliest); every message
   once, intact, in order per partition, where its delivery report said.
4. Commit synchronously; committed() must equal the high watermark and the
   number of messages of every partition.
Last line: "confluent-kafka-python: N passed, M failed"; exit 1 on failure.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
from common import log  # noqa: E402

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402
import confluent_kafka  # noqa: E402

CLIENT = "confluent-kafka-python"


def create_topic(a):
    admin = AdminClient({"bootstrap.servers": a.bootstrap})
    fut = admin.create_topics([NewTopic(a.topic, num_partitions=a.partitions, replication_factor=1)],
                              operation_timeout=10, request_timeout=15)
    try:
        fut[a.topic].result(timeout=20)
        log("create_topics %s: ok" % a.topic)
    except Exception as e:  # noqa: BLE001 - any failure is reported and counted
        log("create_topics %s failed: %s" % (a.topic, e))
        return 1
    deadline = time.time() + 10
    n = -1
    while time.time() < deadline:
        md = admin.list_topics(a.topic, timeout=5)
        t = md.topics.get(a.topic)
        if t is not None and t.error is None:
            n = len(t.partitions)
            if n == a.partitions:
                return 0
        time.sleep(0.2)
    log("metadata shows %d partitions for %s, want %d" % (n, a.topic, a.partitions))
    return 1


def produce(a):
    p = Producer({"bootstrap.servers": a.bootstrap, "acks": "all", "linger.ms": 5,
                  "message.timeout.ms": int(a.timeout * 1000)})
    delivered = [None] * a.count
    errors = []

    def dr(err, msg):
        i = int(msg.key()[1:])
        if err is not None:
            errors.append((i, err))
        else:
            delivered[i] = (msg.partition(), msg.offset())

    t0 = time.time()
    deadline = t0 + a.timeout
    for i in range(a.count):
        while True:
            try:
                p.produce(a.topic, key=common.key(i), value=common.value(a.run, i),
                          headers=common.headers(i), on_delivery=dr)
                break
            except BufferError:
                if time.time() > deadline:
                    raise
                p.poll(0.05)
        if i % 500 == 0:
            p.poll(0)
    left = p.flush(max(1.0, deadline - time.time()))
    dt = time.time() - t0
    ok = sum(1 for d in delivered if d is not None)
    log("produce: %d delivered, %d errors, %d undelivered in %.2f s" % (ok, len(errors), left, dt))
    for i, e in errors[:5]:
        log("  delivery of %d failed: %s" % (i, e))
    return delivered, a.count - ok


def consume(a, delivered):
    c = Consumer({"bootstrap.servers": a.bootstrap, "group.id": a.group,
                  "auto.offset.reset": "earliest", "enable.auto.commit": False,
                  "session.timeout.ms": 6000, "enable.partition.eof": False})
    v = common.Verifier(a.count, "group consume (%s)" % a.group,
                        lambda i: common.value(a.run, i), common.headers)
    c.subscribe([a.topic])
    t0 = time.time()
    deadline = t0 + a.timeout
    errors = 0
    while not v.done() and time.time() < deadline:
        for m in c.consume(num_messages=1000, timeout=0.5):
            if m.error():
                errors += 1
                log("consume error: %s" % m.error())
                continue
            v.add(m.partition(), m.offset(), m.key(), m.value(), m.headers())
    # a little longer, so that duplicates would show
    for m in c.consume(num_messages=1000, timeout=1.0):
        if not m.error():
            v.add(m.partition(), m.offset(), m.key(), m.value(), m.headers())
    log("consume: %d messages in %.2f s" % (v.unique, time.time() - t0))
    passed, failed = v.check(delivered)
    extra = 0
    try:
        c.commit(asynchronous=False)
    except KafkaException as e:
        log("commit failed: %s" % e)
        extra += 1
    tps = [TopicPartition(a.topic, p) for p in range(a.partitions)]
    committed, ends = {}, {}
    try:
        for tp in c.committed(tps, timeout=10):
            committed[tp.partition] = tp.offset
        for tp in tps:
            ends[tp.partition] = c.get_watermark_offsets(tp, timeout=10, cached=False)[1]
    except KafkaException as e:
        log("committed/watermarks failed: %s" % e)
        extra += 1
    extra += common.compare_offsets("offsets", committed, ends, v.counts())
    c.close()
    return passed, failed + extra


def main():
    a = common.parse_args(CLIENT)
    log("%s %s, librdkafka %s" % (CLIENT, confluent_kafka.version()[0],
                                  confluent_kafka.libversion()[0]))
    extra = 0 if a.no_create else create_topic(a)
    delivered, undelivered = produce(a)
    passed, failed = consume(a, delivered)
    return common.summary(CLIENT, passed, failed + extra + undelivered)


if __name__ == "__main__":
    sys.exit(main())
