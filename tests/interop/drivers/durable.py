#!/usr/bin/python3
"""Produce and verify steps of the restart and crash tests, with
confluent-kafka-python. Messages are those of common.py, for a run id given
on the command line so that separate processes agree on them.

  durable.py produce --bootstrap B --topic T --run R --first I --count N --out FILE
                     [--stream --max-seconds S]
      Produces messages I .. I+N-1 with acks=all; each acknowledged one is
      appended to FILE as "i partition offset" (flushed as acks come in).
      Without --stream: every message must be acknowledged (exit 1 if not).
      With --stream (the crash test): keeps producing until N were sent, S
      seconds passed or a delivery failed (the broker got killed), then
      waits at most 10 s for the outstanding ones; exit 0.

  durable.py verify --bootstrap B --topic T --run R --count N --acked FILE...
                    [--partitions P] [--exact]
      Reads every partition from the beginning to its end offset (by
      assignment, with CRC checks on) and checks: each message of the run
      at most once and intact; each acknowledged message exactly where its
      ack said; offsets contiguous from 0 and message indexes increasing
      per partition; nothing that is not a message of the run. --exact:
      all of 0 .. N-1 must be there. --commit: then commit the end offsets
      for group "<run>-verify" (a simple consumer's commit, no join).
      Last line "verify: N passed, M failed".
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
from common import log  # noqa: E402

from confluent_kafka import (OFFSET_BEGINNING, Consumer, KafkaError, KafkaException,  # noqa: E402
                             Producer, TopicPartition)


def produce(a):
    conf = {"bootstrap.servers": a.bootstrap, "acks": "all", "linger.ms": 2,
            "message.timeout.ms": 4000 if a.stream else 30000,
            "socket.timeout.ms": 3000 if a.stream else 30000,
            "reconnect.backoff.max.ms": 500}
    if a.stream:
        conf["queue.buffering.max.messages"] = 20000
    p = Producer(conf)
    out = open(a.out, "a", buffering=1)
    acked = [0]
    errors = [0]
    first_err = []

    def dr(err, msg):
        if err is not None:
            errors[0] += 1
            if not first_err:
                first_err.append(str(err))
            return
        i = int(msg.key()[1:])
        out.write("%d %d %d\n" % (i, msg.partition(), msg.offset()))
        acked[0] += 1

    t0 = time.time()
    deadline = t0 + a.max_seconds
    sent = 0
    for i in range(a.first, a.first + a.count):
        if time.time() > deadline:
            break
        while True:
            try:
                p.produce(a.topic, key=common.key(i), value=common.value(a.run, i),
                          headers=common.headers(i), on_delivery=dr)
                sent += 1
                break
            except BufferError:
                if time.time() > deadline:
                    break
                p.poll(0.05)
        else:
            break
        if sent % 200 == 0:
            p.poll(0)
            if a.stream and errors[0]:
                break  # the broker is gone: stop, and settle what is in flight
    left = p.flush(10 if a.stream else max(5.0, deadline - time.time()))
    out.close()
    log("produce: %d sent, %d acknowledged, %d failed, %d never answered, %.2f s%s"
        % (sent, acked[0], errors[0], left, time.time() - t0,
           (", first failure: " + first_err[0]) if first_err else ""))
    if a.stream:
        return 0
    return 0 if acked[0] == a.count else 1


def verify(a):
    acked = {}
    for path in a.acked:
        with open(path) as f:
            for line in f:
                parts = line.split()
                if len(parts) == 3:
                    i, p, o = map(int, parts)
                    acked[i] = (p, o)
    c = Consumer({"bootstrap.servers": a.bootstrap, "group.id": a.run + "-verify",
                  "enable.auto.commit": False, "check.crcs": True,
                  "enable.partition.eof": True, "auto.offset.reset": "earliest"})
    md = c.list_topics(a.topic, timeout=10)
    t = md.topics.get(a.topic)
    failed = 0
    if t is None or t.error is not None:
        log("verify: topic %s not found: %s" % (a.topic, t and t.error))
        return common.summary("verify", 0, 1)
    parts = sorted(t.partitions)
    if a.partitions and len(parts) != a.partitions:
        log("verify: %d partitions, want %d" % (len(parts), a.partitions))
        failed += 1
    ends = {}
    for p in parts:
        ends[p] = c.get_watermark_offsets(TopicPartition(a.topic, p), timeout=10, cached=False)[1]
    log("verify: end offsets %s, %d acknowledged messages on record" % (ends, len(acked)))
    v = common.Verifier(a.count, "verify", lambda i: common.value(a.run, i), common.headers)
    c.assign([TopicPartition(a.topic, p, OFFSET_BEGINNING) for p in parts])
    at_end = set(p for p in parts if ends[p] == 0)
    deadline = time.time() + a.timeout
    errors = 0
    while len(at_end) < len(parts) and time.time() < deadline:
        for m in c.consume(num_messages=1000, timeout=0.5):
            if m.error():
                if m.error().code() == KafkaError._PARTITION_EOF:
                    if m.offset() >= ends[m.partition()]:
                        at_end.add(m.partition())
                    continue
                errors += 1
                log("verify: consume error: %s" % m.error())
                continue
            v.add(m.partition(), m.offset(), m.key(), m.value(), m.headers())
    if a.commit:
        # commit the end offsets for this consumer's group (no join: a simple
        # consumer's commit), for the restart test to read back later
        try:
            c.commit(offsets=[TopicPartition(a.topic, p, ends[p]) for p in parts],
                     asynchronous=False)
            log("verify: committed %s for group %s" % (ends, a.run + "-verify"))
        except KafkaException as e:
            log("verify: commit failed: %s" % e)
            failed += 1
    c.close()
    if len(at_end) < len(parts):
        log("verify: partitions %s not read to their end in time" % sorted(set(parts) - at_end))
        failed += 1
    failed += errors
    # an acknowledged message must be where its ack said it is
    delivered = [acked.get(i) for i in range(a.count)]
    absent_ok = 0
    if not a.exact:
        # messages never acknowledged may be absent: only those present count
        for i in range(a.count):
            if i not in acked and v.seen[i] == 0:
                v.seen[i] = 1  # absent and not acknowledged: fine
                absent_ok += 1
        log("verify: %d messages never acknowledged and absent (allowed)" % absent_ok)
    lost = sum(1 for i in acked if v.where[i] is None)
    if lost:
        log("verify: %d acknowledged messages are missing" % lost)
    passed, bad = v.check(delivered)
    beyond = 0
    counts = v.counts()
    for p in parts:
        if counts.get(p, 0) != ends[p]:
            beyond += 1
            log("verify: partition %d has end offset %d but %d messages of the run"
                % (p, ends[p], counts.get(p, 0)))
    return common.summary("verify", passed - absent_ok, failed + bad + beyond)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    pp = sub.add_parser("produce")
    pv = sub.add_parser("verify")
    for x in (pp, pv):
        x.add_argument("--bootstrap", required=True)
        x.add_argument("--topic", required=True)
        x.add_argument("--run", required=True)
        x.add_argument("--count", type=int, required=True)
    pp.add_argument("--first", type=int, default=0)
    pp.add_argument("--out", required=True)
    pp.add_argument("--stream", action="store_true")
    pp.add_argument("--max-seconds", type=float, default=60.0)
    pv.add_argument("--acked", nargs="+", required=True)
    pv.add_argument("--partitions", type=int, default=0)
    pv.add_argument("--exact", action="store_true")
    pv.add_argument("--commit", action="store_true",
                    help="commit the end offsets for group <run>-verify afterwards")
    pv.add_argument("--timeout", type=float, default=45.0)
    a = ap.parse_args()
    try:
        return produce(a) if a.cmd == "produce" else verify(a)
    except KafkaException as e:
        log("%s: %s" % (a.cmd, e))
        return common.summary(a.cmd, 0, 1)


if __name__ == "__main__":
    sys.exit(main())
