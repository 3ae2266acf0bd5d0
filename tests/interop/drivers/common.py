"""What every interop driver produces and how what comes back is checked.

Message i of a run:
  key      b"k<i>"
  value    None (a tombstone) when i % 1000 == 999, else b"<run>:<i>:" and a
           binary payload of (i*37) % 301 bytes (65536 bytes when
           i % 2500 == 1234), byte j being (i*7 + j*13) & 0xff
  headers  ("idx", b"<i>"), ("bin", bytes([i & 255, 0, 255, i >> 8 & 255])),
           ("empty", b"")
The kafkajs driver (node/driver.js) builds the same messages; the kcat driver
uses a text variant (kcat reads lines and sets the same headers on every
message).

A Verifier takes what a consumer saw, (partition, offset, key, value,
headers), and checks: every message exactly once; key, value and headers
intact; per partition, offsets strictly increasing in delivery order,
contiguous from 0 (a fresh topic), and message indexes increasing with the
offset (the order they were produced in); where a producer reported the
(partition, offset) of a delivery, that is where the message was found.
"""
import argparse
import os
import sys
import time

MAX_REPORTS = 20


def log(msg):
    sys.stderr.write(msg + "\n")
    sys.stderr.flush()


def parse_args(client, extra=None):
    ap = argparse.ArgumentParser(description="%s interop round trip" % client)
    ap.add_argument("--bootstrap", required=True, help="HOST:PORT")
    ap.add_argument("--topic", required=True)
    ap.add_argument("--count", type=int, default=10000)
    ap.add_argument("--partitions", type=int, default=3)
    ap.add_argument("--group", default=None)
    ap.add_argument("--timeout", type=float, default=45.0, help="seconds per phase")
    ap.add_argument("--no-create", action="store_true",
                    help="do not create the topic through the admin API (it exists)")
    if extra:
        extra(ap)
    a = ap.parse_args()
    a.run = "%s-%d-%d" % (client, os.getpid(), int(time.time()))
    if a.group is None:
        a.group = a.run + "-grp"
    return a


def key(i):
    return b"k%d" % i


def payload_len(i):
    return 65536 if i % 2500 == 1234 else (i * 37) % 301


def payload(i):
    n = payload_len(i)
    start = (i * 7) & 0xFF
    # byte j is (start + 13 j) & 0xff: one period of 256 bytes, repeated
    period = bytes((start + 13 * j) & 0xFF for j in range(min(n, 256)))
    if n <= 256:
        return period
    return (period * (n // 256 + 1))[:n]


def value(run, i):
    if i % 1000 == 999:
        return None
    return run.encode() + b":%d:" % i + payload(i)


def headers(i):
    return [("idx", b"%d" % i), ("bin", bytes([i & 0xFF, 0, 0xFF, (i >> 8) & 0xFF])),
            ("empty", b"")]


def norm_headers(h):
    """Headers as a list of (str, bytes); None values become b"" only if
    the client cannot tell them apart (not done here: they must match)."""
    if h is None:
        return []
    if isinstance(h, dict):
        h = list(h.items())
    out = []
    for k, v in h:
        if isinstance(k, bytes):
            k = k.decode("utf-8", "replace")
        if isinstance(v, str):
            v = v.encode()
        out.append((k, v))
    return out


class Verifier:
    def __init__(self, n, label, expect_value, expect_headers, contiguous=True):
        self.n = n
        self.label = label
        self.expect_value = expect_value
        self.expect_headers = expect_headers
        self.contiguous = contiguous
        self.seen = [0] * n
        self.where = [None] * n  # (partition, offset) of the first sighting
        self.parts = {}          # partition -> [(offset, i)] in delivery order
        self.corrupt = 0
        self.reports = []
        self.unique = 0

    def report(self, msg):
        if len(self.reports) < MAX_REPORTS:
            self.reports.append(msg)

    def add(self, partition, offset, k, v, h):
        i = None
        if isinstance(k, (bytes, bytearray)) and k.startswith(b"k"):
            try:
                i = int(k[1:])
            except ValueError:
                i = None
        if i is None or i < 0 or i >= self.n or k != key(i):
            self.corrupt += 1
            self.report("p%d@%d: unexpected key %r" % (partition, offset, bytes(k or b"")[:40]))
            return
        v = bytes(v) if v is not None else None
        want = self.expect_value(i)
        if v != want:
            self.corrupt += 1
            self.report("p%d@%d: message %d: value differs (%s bytes, want %s)"
                        % (partition, offset, i, None if v is None else len(v),
                           None if want is None else len(want)))
            return
        got_h = norm_headers(h)
        want_h = self.expect_headers(i)
        if got_h != want_h and sorted(got_h) != sorted(want_h):
            self.corrupt += 1
            self.report("p%d@%d: message %d: headers %r, want %r" % (partition, offset, i, got_h, want_h))
            return
        if self.seen[i] == 0:
            self.unique += 1
            self.where[i] = (partition, offset)
        else:
            self.report("message %d again at p%d@%d (first at p%d@%d)"
                        % ((i, partition, offset) + self.where[i]))
        self.seen[i] += 1
        self.parts.setdefault(partition, []).append((offset, i))

    def done(self):
        return self.unique >= self.n

    def check(self, delivered=None):
        """Returns (passed, failed) counted in messages, logging findings.
        delivered: optional list, i -> (partition, offset) from the producer."""
        bad = set()
        for i, s in enumerate(self.seen):
            if s != 1:
                bad.add(i)
        missing = sum(1 for s in self.seen if s == 0)
        dup = sum(1 for s in self.seen if s > 1)
        order = gaps = misplaced = 0
        for p, seq in sorted(self.parts.items()):
            last_off = last_i = -1
            for off, i in seq:
                if off <= last_off or i <= last_i:
                    order += 1
                    bad.add(i)
                    self.report("p%d: message %d at offset %d after message %d at offset %d"
                                % (p, i, off, last_i, last_off))
                last_off, last_i = max(last_off, off), max(last_i, i)
            if self.contiguous:
                offs = sorted(set(o for o, _ in seq))
                if offs and (offs[0] != 0 or offs[-1] != len(offs) - 1):
                    gaps += 1
                    self.report("p%d: offsets %d..%d hold %d distinct messages (not contiguous from 0)"
                                % (p, offs[0], offs[-1], len(offs)))
        if delivered is not None:
            for i, w in enumerate(self.where):
                if w is not None and delivered[i] is not None and tuple(delivered[i]) != w:
                    misplaced += 1
                    bad.add(i)
                    self.report("message %d: delivery report said p%d@%d, found at p%d@%d"
                                % ((i,) + tuple(delivered[i]) + w))
        log("%s: %d messages, %d ok, %d missing, %d duplicated, %d corrupt, %d out of order, "
            "%d misplaced, %d partitions with offset gaps; per partition %s"
            % (self.label, self.n, self.n - len(bad), missing, dup, self.corrupt, order,
               misplaced, gaps, {p: len(s) for p, s in sorted(self.parts.items())}))
        for r in self.reports:
            log("  " + r)
        failed = len(bad) + self.corrupt + gaps
        return self.n - len(bad), failed

    def counts(self):
        """Messages seen per partition (first sightings)."""
        out = {}
        for w in self.where:
            if w is not None:
                out[w[0]] = out.get(w[0], 0) + 1
        return out


def compare_offsets(label, committed, ends, counts):
    """committed, ends: {partition: offset}; counts: {partition: messages}.
    Returns the number of mismatching partitions."""
    bad = 0
    for p in sorted(ends):
        c, e, n = committed.get(p), ends[p], counts.get(p, 0)
        ok = c == e == n
        log("%s: partition %d committed %s, end offset %s, messages %d%s"
            % (label, p, c, e, n, "" if ok else "  MISMATCH"))
        bad += 0 if ok else 1
    return bad


def summary(client, passed, failed):
    print("%s: %d passed, %d failed" % (client, passed, failed))
    sys.stdout.flush()
    return 0 if failed == 0 else 1
