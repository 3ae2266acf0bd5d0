#!/usr/bin/env python3
"""Interop round trip with kcat (librdkafka's command line client).

  kcat_driver.py --bootstrap HOST:PORT --topic T [--count N] [--partitions P]
                 [--group G] [--timeout S]

kcat has no admin API: the topic is auto-created by the broker on first
use, and the broker must have been started with --partitions P.
1. kcat -P -K: N keyed lines, with -H headers (kcat sets the same headers
   on every message), acks=all; kcat must exit 0.
2. kcat -L: the topic has P partitions.
3. kcat -C -o beginning -e: every message once, intact (key, value,
   headers), in order per partition, offsets contiguous from 0.
4. kcat -G (consumer group, earliest) -e: the same checks; kcat commits
   on close.
5. The group's committed offsets (OffsetFetch, spoken by kproto.py) must
   equal the end offsets kcat -Q reports (ListOffsets) and the number of
   messages of every partition; a second kcat -G in the group reads nothing.
Last line: "kcat: N passed, M failed"; exit 1 on failure.
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
sys.path.insert(0, os.path.dirname(here))
import common  # noqa: E402
from common import log  # noqa: E402
import kproto  # noqa: E402

CLIENT = "kcat"
FMT = "%p\\t%o\\t%k\\t%S\\t%h\\t%s\\n"


def text_value(run, i):
    n = common.payload_len(i)
    start = i * 7
    period = "".join(chr(97 + (start + 13 * j) % 26) for j in range(min(n, 26)))
    body = (period * (n // 26 + 1))[:n] if n else ""
    return ("%s:%d:%s" % (run, i, body)).encode()


def run_kcat(args, timeout, stdin=None, stdout=None):
    cmd = ["kcat"] + args
    t0 = time.time()
    try:
        r = subprocess.run(cmd, stdin=stdin, stdout=stdout or subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout)
    except subprocess.TimeoutExpired:
        log("%s: timed out after %.0f s" % (" ".join(cmd[:3]), timeout))
        return None, b""
    err = r.stderr.decode("utf-8", "replace").strip()
    mode = next((x for x in args if x in ("-P", "-C", "-G", "-L", "-Q")), "?")
    log("kcat %s: rc=%d, %.2f s%s" % (mode, r.returncode, time.time() - t0,
                                     ("\n  " + err.replace("\n", "\n  ")) if err else ""))
    return r.returncode, r.stdout


def consume_into(v, out):
    for line in out.split(b"\n"):
        if not line:
            continue
        f = line.split(b"\t", 5)
        if len(f) != 6:
            v.corrupt += 1
            v.report("unparsable line %r" % line[:80])
            continue
        p, o, k, size, h, s = f
        if int(size) != len(s):
            v.corrupt += 1
            v.report("p%s@%s: value length %s but %d bytes printed" % (p, o, size, len(s)))
            continue
        hdrs = [tuple(x.split(b"=", 1)) for x in h.split(b",")] if h else []
        v.add(int(p), int(o), k, s, [(hk.decode(), hv) for hk, hv in hdrs])


def main():
    a = common.parse_args(CLIENT)
    failed = 0
    hdrs = [("kind", b"interop"), ("run", a.run.encode())]
    B = ["-b", a.bootstrap]
    with tempfile.TemporaryDirectory(prefix="kw-kcat-") as work:
        src = os.path.join(work, "in")
        with open(src, "wb") as f:
            for i in range(a.count):
                f.write(b"k%d\t%s\n" % (i, text_value(a.run, i)))
        with open(src, "rb") as f:
            rc, _ = run_kcat(["-P"] + B + ["-t", a.topic, "-K", "\t", "-H", "kind=interop",
                                           "-H", "run=" + a.run, "-X", "acks=all",
                                           "-X", "message.timeout.ms=%d" % (a.timeout * 1000)],
                             a.timeout + 10, stdin=f)
        if rc != 0:
            failed += 1

        rc, out = run_kcat(["-L", "-J"] + B + ["-t", a.topic], 30)
        nparts = -1
        try:
            md = json.loads(out)
            for t in md.get("topics", []):
                if t.get("topic") == a.topic:
                    nparts = len(t.get("partitions", []))
        except ValueError:
            pass
        if nparts != a.partitions:
            log("metadata: %d partitions for %s, want %d" % (nparts, a.topic, a.partitions))
            failed += 1

        def fresh(label):
            return common.Verifier(a.count, label, lambda i: text_value(a.run, i), lambda i: hdrs)

        v = fresh("simple consume")
        rc, out = run_kcat(["-C"] + B + ["-t", a.topic, "-o", "beginning", "-e", "-q", "-f", FMT],
                           a.timeout)
        consume_into(v, out)
        passed_s, failed_s = v.check()
        failed += failed_s + (1 if rc != 0 else 0)

        X = ["-X", "auto.offset.reset=earliest", "-X", "session.timeout.ms=6000"]
        g = fresh("group consume (%s)" % a.group)
        rc, out = run_kcat(B + ["-G", a.group] + X + ["-e", "-q", "-f", FMT, a.topic], a.timeout)
        consume_into(g, out)
        passed_g, failed_g = g.check()
        failed += failed_g + (1 if rc != 0 else 0)

        # committed offsets against end offsets
        tparts = []
        for p in range(a.partitions):
            tparts += ["-t", "%s:%d:-1" % (a.topic, p)]
        rc, out = run_kcat(["-Q"] + B + tparts, 30)
        ends = {}
        for m in re.finditer(rb"\[(\d+)\]\s+offset\s+(-?\d+)", out):
            ends[int(m.group(1))] = int(m.group(2))
        committed = {}
        try:
            host, port = kproto.split_hostport(a.bootstrap.split(",")[0])
            with kproto.Conn(host, port) as conn:
                committed = conn.committed(a.group, a.topic, list(range(a.partitions)))
        except (OSError, kproto.ProtocolError) as e:
            log("OffsetFetch failed: %s" % e)
            failed += 1
        if len(ends) != a.partitions:
            log("kcat -Q gave end offsets %s" % ends)
            failed += 1
        failed += common.compare_offsets("offsets", committed, ends, g.counts())

        rc, out = run_kcat(B + ["-G", a.group] + X + ["-e", "-q", "-f", FMT, a.topic], a.timeout)
        again = sum(1 for line in out.split(b"\n") if line)
        log("resume: %d messages read again by the group (want 0)" % again)
        failed += again + (1 if rc != 0 else 0)

    return common.summary(CLIENT, min(passed_s, passed_g), failed)


if __name__ == "__main__":
    sys.exit(main())
