#!/usr/bin/python3
"""Old and new message formats on one partition, with kafka-python pinned to
old protocol versions (its api_version setting):

  old_formats_driver.py --bootstrap HOST:PORT --topic T [--count N] [--timeout S]

1. Three producers write N messages each, in turn, to partition 0:
   api_version (0, 9) (Produce v1, magic 0 messages), (0, 10, 0) (Produce
   v2, magic 1, gzip wrappers) and the client's newest (v2 batches, gzip).
   Every future must resolve at the offset that follows the last one.
2. Four readers fetch the partition from offset 0 with assign() (no group):
   api_version (0, 9) (Fetch v1: magic 0 only), (0, 10, 0) (Fetch v2: magic
   1), (0, 10, 1) (Fetch v3) and the newest. Each must see all 3N messages,
   offsets 0..3N-1 in order, keys and values as produced.
Last line: "old-formats: N passed, M failed"; exit 1 on failure.
"""
import logging
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
from common import log  # noqa: E402

from kafka import KafkaConsumer, KafkaProducer, TopicPartition  # noqa: E402

PRODUCERS = [((0, 9), None), ((0, 10, 0), "gzip"), (None, "gzip")]
READERS = [(0, 9), (0, 10, 0), (0, 10, 1), None]


def message(step, i):
    return b"k%d-%d" % (step, i), b"%s:%d:%d" % (b"old-formats", step, i)


def produce(a, step, api, codec, first):
    kw = {"api_version": api} if api else {}
    p = KafkaProducer(bootstrap_servers=a.bootstrap, acks="all", linger_ms=5,
                      compression_type=codec, request_timeout_ms=int(a.timeout * 1000), **kw)
    log("producer %d: api_version %s, %s" % (step, p.config["api_version"], codec or "plain"))
    futs = []
    for i in range(a.count):
        k, v = message(step, i)
        futs.append(p.send(a.topic, key=k, value=v, partition=0))
    p.flush(timeout=a.timeout)
    bad = 0
    for i, f in enumerate(futs):
        try:
            md = f.get(timeout=a.timeout)
            if md.offset != first + i:
                bad += 1
                if bad <= 5:
                    log("  message %d of producer %d at offset %d, want %d" %
                        (i, step, md.offset, first + i))
        except Exception as e:  # noqa: BLE001 - every failure is counted
            bad += 1
            if bad <= 5:
                log("  delivery %d of producer %d failed: %r" % (i, step, e))
    p.close(timeout=10)
    return bad


def read(a, api, total):
    kw = {"api_version": api} if api else {}
    c = KafkaConsumer(bootstrap_servers=a.bootstrap, enable_auto_commit=False,
                      auto_offset_reset="earliest", group_id=None, **kw)
    tp = TopicPartition(a.topic, 0)
    c.assign([tp])
    c.seek(tp, 0)
    got = []
    deadline = time.time() + a.timeout
    while len(got) < total and time.time() < deadline:
        for records in c.poll(timeout_ms=500).values():
            got.extend(records)
    c.close()
    want = [message(step, i) for step in range(len(PRODUCERS)) for i in range(a.count)]
    bad = 0
    if len(got) != total:
        log("  reader %s: %d messages, want %d" % (api, len(got), total))
        bad += 1
    for n, r in enumerate(got[:total]):
        if r.offset != n or (r.key, r.value) != want[n]:
            bad += 1
            if bad <= 5:
                log("  reader %s: message %d is offset %d %r=%r" % (api, n, r.offset, r.key, r.value))
    return bad


def main():
    a = common.parse_args("old-formats")
    logging.basicConfig(level=logging.ERROR)
    passed = failed = 0
    first = 0
    for step, (api, codec) in enumerate(PRODUCERS):
        bad = produce(a, step, api, codec, first)
        first += a.count
        passed, failed = passed + (bad == 0), failed + (bad != 0)
        log("produce with api_version %s: %s" % (api, "ok" if bad == 0 else "%d bad" % bad))
    for api in READERS:
        bad = read(a, api, first)
        passed, failed = passed + (bad == 0), failed + (bad != 0)
        log("read with api_version %s: %s" % (api, "ok" if bad == 0 else "%d bad" % bad))
    print("old-formats: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
