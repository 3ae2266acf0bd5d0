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
With --rebalance, step 3 is a group of two members instead: A reads alone,
B joins after A read a third of each partition (A pauses until B has partitions), both
read until two thirds, B leaves (close), A reads the rest. A commits
asynchronously after each batch, B synchronously, both synchronously when
partitions are revoked; A's assignment must go from all partitions to fewer
and back to all, and B must read some. The same checks then; every commit
must succeed.
Last line: "<client>: N passed, M failed" (--client-name, by default
confluent-kafka-python); exit 1 on failure.
"""
import os
import sys
import threading
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


class Member:
    """One member of the rebalance group: its assignments, in order, and its
    commit failures. Offsets are stored as messages are returned (librdkafka's
    default), so a commit without arguments commits what was read."""

    def __init__(self, a, name):
        self.name = name
        self.sizes = []
        self.records = 0
        self.commit_failures = 0
        self.c = Consumer({"bootstrap.servers": a.bootstrap, "group.id": a.group,
                           "client.id": name, "auto.offset.reset": "earliest",
                           "enable.auto.commit": False, "session.timeout.ms": 10000,
                           "heartbeat.interval.ms": 1000, "enable.partition.eof": False,
                           "on_commit": self.on_commit})
        self.c.subscribe([a.topic], on_assign=self.on_assign, on_revoke=self.on_revoke)

    def on_assign(self, _c, parts):
        self.sizes.append(len(parts))
        log("%s: assigned %s" % (self.name, [p.partition for p in parts]))

    def on_revoke(self, _c, parts):
        if parts:
            self.commit(False, "on revocation")

    def commit(self, asynchronous, what=""):
        try:
            self.c.commit(asynchronous=asynchronous)
        except KafkaException as e:
            if e.args[0].code() == confluent_kafka.KafkaError._NO_OFFSET:
                return  # nothing read since the last commit
            self.commit_failures += 1
            log("%s: commit %s failed: %s" % (self.name, what, e))

    def on_commit(self, err, parts):
        bad = [p for p in parts or [] if p.error]
        if err is not None and err.code() != confluent_kafka.KafkaError._NO_OFFSET or bad:
            self.commit_failures += 1
            log("%s: async commit failed: %s %s" % (self.name, err, bad))

    def poll(self, v, asynchronous):
        ms = self.c.consume(num_messages=200, timeout=0.2)
        n = 0
        for m in ms:
            if m.error():
                log("%s: consume error: %s" % (self.name, m.error()))
                continue
            v.add(m.partition(), m.offset(), m.key(), m.value(), m.headers())
            n += 1
        self.records += n
        if n:
            self.commit(asynchronous)


def consume_two(a, delivered):
    v = common.Verifier(a.count, "two-member group (%s)" % a.group,
                        lambda i: common.value(a.run, i), common.headers)
    lock = threading.Lock()
    add = v.add

    def locked_add(*args):
        with lock:
            add(*args)
    v.add = locked_add
    deadline = time.time() + 3 * a.timeout
    ma = Member(a, "member-a")
    # A reads about a third of every partition (each paused at its share), so
    # that whichever partitions B gets still hold messages to read
    share = a.count // (3 * a.partitions)
    while time.time() < deadline:
        with lock:
            full = [p for p in range(a.partitions) if len(v.parts.get(p, ())) >= share]
        if len(full) == a.partitions:
            break
        ma.c.pause([TopicPartition(a.topic, p) for p in full])
        ma.poll(v, True)
    log("member-a alone: %d messages; member-b joins" % v.unique)
    state = {"b": None, "leave": False}

    def member_b():
        mb = Member(a, "member-b")
        state["b"] = mb
        while not state["leave"] and time.time() < deadline:
            mb.poll(v, False)
        mb.commit(False, "before leaving")
        mb.c.close()
        log("member-b left after %d records" % mb.records)
    tb = threading.Thread(target=member_b)
    tb.start()
    # A reads nothing more until B has partitions (its polls still serve the rebalance)
    while (state["b"] is None or not state["b"].sizes) and time.time() < deadline:
        ma.c.pause(ma.c.assignment())
        ma.poll(v, True)
    ma.c.resume(ma.c.assignment())
    while ((v.unique < 2 * a.count // 3 or state["b"] is None or state["b"].records == 0)
           and v.unique < a.count and time.time() < deadline):
        ma.poll(v, True)
    state["leave"] = True
    while tb.is_alive() and time.time() < deadline:
        ma.poll(v, True)
    tb.join(max(0.1, deadline - time.time()))
    while v.unique < a.count and time.time() < deadline:
        ma.poll(v, True)
    tail = time.time() + 1.5  # a little longer, so that duplicates would show
    while time.time() < tail:
        ma.poll(v, True)
    ma.commit(False, "at the end")
    mb = state["b"]
    log("member-a assignments %s, %d records; member-b assignments %s, %d records"
        % (ma.sizes, ma.records, mb.sizes if mb else None, mb.records if mb else 0))
    extra = 0
    sizes = ma.sizes
    shrunk = next((k for k in range(1, len(sizes)) if sizes[k] < a.partitions), None)
    ok = bool(sizes) and sizes[0] == a.partitions and shrunk is not None and a.partitions in sizes[shrunk:]
    log("%s rebalance: member-a's assignments %s go from all partitions to fewer and back"
        % ("PASS" if ok else "FAIL", sizes))
    extra += 0 if ok else 1
    ok = mb is not None and bool(mb.sizes) and mb.sizes[0] > 0 and mb.records > 0
    log("%s rebalance: member-b got partitions and read from them" % ("PASS" if ok else "FAIL"))
    extra += 0 if ok else 1
    fails = ma.commit_failures + (mb.commit_failures if mb else 0)
    log("%s every commit (async, sync, on revocation) succeeded: %d failed"
        % ("PASS" if fails == 0 else "FAIL", fails))
    extra += 1 if fails else 0
    passed, failed = v.check(delivered)
    tps = [TopicPartition(a.topic, p) for p in range(a.partitions)]
    committed, ends = {}, {}
    try:
        for tp in ma.c.committed(tps, timeout=10):
            committed[tp.partition] = tp.offset
        for tp in tps:
            ends[tp.partition] = ma.c.get_watermark_offsets(tp, timeout=10, cached=False)[1]
    except KafkaException as e:
        log("committed/watermarks failed: %s" % e)
        extra += 1
    extra += common.compare_offsets("offsets", committed, ends, v.counts())
    ma.c.close()
    return passed, failed + extra


def main():
    global CLIENT
    a = common.parse_args(CLIENT, lambda ap: (
        ap.add_argument("--rebalance", action="store_true",
                        help="consume with a group of two members that rebalances"),
        ap.add_argument("--client-name", default=CLIENT, help="the name in the last line")))
    CLIENT = a.client_name
    version = confluent_kafka.version()  # a tuple before 2.16, a string since
    log("%s %s, librdkafka %s" % (CLIENT, version if isinstance(version, str) else version[0],
                                  confluent_kafka.libversion()[0]))
    extra = 0 if a.no_create else create_topic(a)
    delivered, undelivered = produce(a)
    passed, failed = (consume_two if a.rebalance else consume)(a, delivered)
    return common.summary(CLIENT, passed, failed + extra + undelivered)


if __name__ == "__main__":
    sys.exit(main())
