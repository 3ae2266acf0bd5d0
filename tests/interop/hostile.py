#!/usr/bin/env python3
"""Hostile peers for a Kafka broker (standard library only).

  hostile.py --bootstrap HOST:PORT --max-frame-bytes N [--connections 200]
             [--rounds 2] [--time-limit 60] [--seed 1]

Each round opens --connections connections at once; connection k plays case
k mod (number of cases): garbage, truncated frames, negative and oversized
sizes, frames just under the limit, huge array counts and lengths inside
otherwise valid requests, unknown API keys and versions, corrupt record
batches, slow partial frames (one byte per 100 ms), readers that never
read (pipelined Fetch requests of 512 KiB each), idle and churning
connections. Every case is bounded: at most about 1.1 MB sent and 6 s spent
per connection, and the whole run stops after --time-limit seconds.

Most cases only report what the broker did (answered, closed, stayed
silent); surviving them is checked by the caller (process alive, still
answering, memory bounded). Cases marked "must" are valid requests sent in
a hard way (one byte at a time, many in one write, right after a connection
was refused elsewhere): the broker must answer them correctly.
Corrupt batches go to topic "hostile" (the caller checks that none was
appended). Last line "hostile: N passed, M failed" over the "must" connections.
"""
import argparse
import os
import random
import socket
import struct
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kproto  # noqa: E402
from kproto import arr, s16  # noqa: E402

HUGE = 0x7FFFFFFF
DATA_TOPIC = "hostile-data"


def uvarint(n):
    out = bytearray()
    while True:
        if n < 0x80:
            out.append(n)
            return bytes(out)
        out.append((n & 0x7F) | 0x80)
        n >>= 7


def frame(payload):
    return struct.pack(">i", len(payload)) + payload


def hdr1(api, ver, corr, client="hostile"):
    return struct.pack(">hhi", api, ver, corr) + s16(client)


def hdr2(api, ver, corr, client="hostile"):
    return hdr1(api, ver, corr, client) + b"\x00"  # no tagged fields


def api_versions_v0(corr):
    return frame(hdr1(18, 0, corr))


def api_versions_v3(corr):
    body = uvarint(len(b"hostile") + 1) + b"hostile" + uvarint(2) + b"1" + b"\x00"
    return frame(hdr2(18, 3, corr) + body)


class Outcome:
    def __init__(self):
        self.kind = "?"
        self.answered = 0   # response bytes read
        self.ok = None      # for "must" cases: True / False
        self.note = ""


def drain(sock, seconds, out, want=None):
    """Reads until EOF, a reset or the time is up; out.kind is closed,
    reset or open. Returns the bytes read (at most 1 MiB kept)."""
    sock.settimeout(0.2)
    got = bytearray()
    end = time.time() + seconds
    while time.time() < end:
        try:
            b = sock.recv(65536)
        except socket.timeout:
            if want is not None and len(got) >= want:
                break
            continue
        except OSError:
            out.kind = "reset"
            out.answered = len(got)
            return bytes(got)
        if not b:
            out.kind = "closed"
            out.answered = len(got)
            return bytes(got)
        if len(got) < (1 << 20):
            got += b
        if want is not None and len(got) >= want:
            break
    out.kind = "open"
    out.answered = len(got)
    return bytes(got)


def send_all(sock, data, out):
    try:
        sock.sendall(data)
        return True
    except OSError:
        out.kind = "reset-on-send"
        return False


def parse_frames(data):
    frames = []
    p = 0
    while p + 4 <= len(data):
        (n,) = struct.unpack(">i", data[p:p + 4])
        if n < 0 or p + 4 + n > len(data):
            break
        frames.append(data[p + 4:p + 4 + n])
        p += 4 + n
    return frames


def check_api_versions(resp, corr, out, allowed=(0,)):
    """allowed: acceptable error codes (35 for a version the broker may
    not have, which it answers in a v0 body)."""
    if len(resp) < 6:
        out.ok = False
        out.note = "short ApiVersions response"
        return
    (c, err) = struct.unpack(">ih", resp[:6])
    if err != 0 and err in allowed:
        out.note = "ApiVersions error %d" % err
    if c != corr or err not in allowed:
        out.ok = False
        out.note = "ApiVersions response corr %d (want %d) error %d" % (c, corr, err)
        return
    out.ok = True


# ---- the cases ---------------------------------------------------------------

def c_garbage(ctx, sock, rnd, out):
    send_all(sock, bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 8192))), out)
    drain(sock, 2, out)


def c_garbage_big_prefix(ctx, sock, rnd, out):
    # a plausible small size, then random bytes that are not a request
    body = bytes(rnd.getrandbits(8) for _ in range(200))
    send_all(sock, frame(body), out)
    drain(sock, 2, out)


def c_truncated(ctx, sock, rnd, out):
    f = api_versions_v0(7)
    send_all(sock, f[:rnd.randint(1, len(f) - 1)], out)
    drain(sock, 1, out)


def c_truncated_claims_more(ctx, sock, rnd, out):
    body = hdr1(3, 1, 9) + struct.pack(">i", 0)
    send_all(sock, struct.pack(">i", len(body) + 5000) + body, out)
    drain(sock, 1, out)


def c_negative_size(ctx, sock, rnd, out):
    send_all(sock, struct.pack(">i", rnd.choice([-1, -2, -(1 << 31), -4096])) + b"\x00" * 64, out)
    drain(sock, 2, out)


def c_tiny_size(ctx, sock, rnd, out):
    n = rnd.choice([0, 1, 3, 7])
    send_all(sock, struct.pack(">i", n) + b"\x00" * n + api_versions_v0(1), out)
    drain(sock, 2, out)


def c_oversize(ctx, sock, rnd, out):
    n = rnd.choice([ctx.max_frame + 1, ctx.max_frame * 4, HUGE])
    if not send_all(sock, struct.pack(">i", n) + hdr1(0, 3, 1), out):
        return
    chunk = b"\xab" * 65536
    for _ in range(4):  # at most 256 KiB more; the broker should have hung up
        if not send_all(sock, chunk, out):
            return
    drain(sock, 2, out)


def c_just_under_limit(ctx, sock, rnd, out):
    head = hdr1(0, 3, 11) + s16(None) + struct.pack(">hi", -1, 1000)
    n = ctx.max_frame - 16
    body = head + b"\xee" * (n - len(head))
    if send_all(sock, struct.pack(">i", len(body)) + body, out):
        drain(sock, 3, out)


def c_huge_arrays(ctx, sock, rnd, out):
    corr = 21
    reqs = [
        hdr1(3, 1, corr) + struct.pack(">i", HUGE),                                    # Metadata v1 topics
        hdr2(3, 9, corr) + uvarint(HUGE) + b"\x00\x00\x00",                            # Metadata v9 compact
        hdr1(0, 3, corr) + s16(None) + struct.pack(">hii", -1, 1000, HUGE),            # Produce v3 topics
        hdr1(0, 3, corr) + s16(None) + struct.pack(">hi", -1, 1000)
        + arr(["t"], lambda t: s16(t) + struct.pack(">i", HUGE)),                     # Produce v3 partitions
        hdr1(0, 3, corr) + s16(None) + struct.pack(">hi", -1, 1000)
        + arr(["t"], lambda t: s16(t) + struct.pack(">iii", 1, 0, HUGE)),             # records length
        hdr1(1, 4, corr) + struct.pack(">iiiib", -1, 100, 1, 1 << 20, 0) + struct.pack(">i", HUGE),  # Fetch v4
        hdr1(2, 1, corr) + struct.pack(">ii", -1, HUGE),                               # ListOffsets v1
        hdr1(8, 2, corr) + s16("g") + struct.pack(">i", 1) + s16("m")
        + struct.pack(">qi", -1, HUGE),                                                 # OffsetCommit v2
        hdr1(9, 1, corr) + s16("g") + struct.pack(">i", HUGE),                         # OffsetFetch v1
        hdr1(11, 0, corr) + s16("g") + struct.pack(">i", 6000) + s16("") + s16("consumer")
        + struct.pack(">i", HUGE),                                                      # JoinGroup v0
        hdr1(19, 0, corr) + struct.pack(">i", HUGE),                                   # CreateTopics v0
        hdr1(14, 0, corr) + s16("g") + struct.pack(">i", 1) + s16("m") + struct.pack(">i", HUGE),  # SyncGroup v0
        hdr1(3, 1, corr) + struct.pack(">i", 3) + struct.pack(">h", 0x7FFF) + b"x",    # string length past end
        hdr1(3, 1, corr) + struct.pack(">i", 1) + struct.pack(">h", -5),               # negative string length
        struct.pack(">hhi", 3, 1, corr) + struct.pack(">h", 0x7FFF),                   # client id past end
        hdr2(18, 3, corr) + uvarint(HUGE) + b"x",                                       # ApiVersions v3 name
        hdr2(3, 9, corr) + b"\x02" + uvarint(HUGE) + b"abc",                            # compact string huge
        hdr2(3, 9, corr) + b"\x01" + b"\x00\x00" + uvarint(HUGE),                       # tagged field count
        hdr2(3, 9, corr) + b"\x01\x00\x00\xff\xff\xff\xff\xff\xff\x0f",                 # varint too long
    ]
    send_all(sock, frame(reqs[(ctx.k // ctx.ncases + ctx.k % ctx.ncases) % len(reqs)]), out)
    drain(sock, 2, out)


def c_unknown_api(ctx, sock, rnd, out):
    api, ver = rnd.choice([(9999, 0), (-1, 0), (88, 0), (32767, 5), (1000, 1)])
    send_all(sock, frame(hdr1(api, ver, 31) + b"\x00" * 16), out)
    drain(sock, 2, out)


def c_unknown_version(ctx, sock, rnd, out):
    api, ver = rnd.choice([(3, 99), (0, 99), (1, 999), (19, 200), (18, -1)])
    send_all(sock, frame(hdr1(api, ver, 32) + struct.pack(">i", 0)), out)
    drain(sock, 2, out)


def c_api_versions_future(ctx, sock, rnd, out):
    # KIP-511: an ApiVersions of a version the broker does not know gets
    # error 35 (UNSUPPORTED_VERSION) in a v0 body; noted, not required
    send_all(sock, frame(hdr2(18, 127, 33) + b"\x00\x00\x00"), out)
    data = drain(sock, 2, out, want=10)
    fr = parse_frames(data)
    if fr and len(fr[0]) >= 6:
        c, err = struct.unpack(">ih", fr[0][:6])
        out.note = "ApiVersions v127 -> error %d" % err
    else:
        out.note = "ApiVersions v127 -> %s, no answer" % out.kind


def c_bad_crc_batch(ctx, sock, rnd, out):
    # a v2 record batch whose CRC is wrong (or whose record count lies)
    recs = b"\x10\x00\x00\x00\x02k\x02v\x00"
    count = rnd.choice([1, HUGE])
    after = struct.pack(">hiqqqhii", 0, 0, 0, 0, -1, -1, -1, count) + recs
    body = struct.pack(">ibI", 0, 2, 0xDEADBEEF) + after
    batch = struct.pack(">qi", 0, len(body)) + body
    req = (hdr1(0, 3, 41) + s16(None) + struct.pack(">hi", 1, 1000)
           + arr([ctx.topic], lambda t: s16(t) + struct.pack(">i", 1)
                 + struct.pack(">i", 0) + struct.pack(">i", len(batch)) + batch))
    send_all(sock, frame(req), out)
    data = drain(sock, 2, out, want=30)
    fr = parse_frames(data)
    out.note = "no answer (%s)" % out.kind
    if fr:
        try:
            r = kproto.Reader(fr[0])
            r.i32()
            errs = []
            r.array(lambda: (r.string(), r.array(lambda: errs.append((r.i32(), r.i16(), r.i64(), r.i64())))))
            out.note = "Produce answered with error %s" % ",".join(str(e[1]) for e in errs)
        except kproto.ProtocolError as e:
            out.note = "Produce answer unreadable: %s" % e


def c_slow_garbage(ctx, sock, rnd, out):
    for b in bytes(rnd.getrandbits(8) for _ in range(20)):
        if not send_all(sock, bytes([b]), out):
            return
        time.sleep(0.1)
    drain(sock, 1, out)


def c_slow_prefix_then_idle(ctx, sock, rnd, out):
    for b in struct.pack(">i", 100)[:3]:
        if not send_all(sock, bytes([b]), out):
            return
        time.sleep(0.1)
    drain(sock, 3, out)


def c_slow_valid(ctx, sock, rnd, out):
    # must: one byte per 100 ms, then the answer must come
    v3 = ctx.k % 2 == 0
    f = api_versions_v3(51) if v3 else api_versions_v0(51)
    for b in f:
        if not send_all(sock, bytes([b]), out):
            out.ok = False
            out.note = "connection lost while sending slowly"
            return
        time.sleep(0.1)
    data = drain(sock, 5, out, want=10)
    fr = parse_frames(data)
    if not fr:
        out.ok = False
        out.note = "no answer to a slowly sent ApiVersions (%s)" % out.kind
        return
    check_api_versions(fr[0], 51, out, (0, 35) if v3 else (0,))


def c_pipelined(ctx, sock, rnd, out):
    # must: 20 ApiVersions in one write, 20 answers in order
    n = 20
    send_all(sock, b"".join(api_versions_v0(100 + i) for i in range(n)), out)
    data = b""
    end = time.time() + 5
    while len(parse_frames(data)) < n and time.time() < end:
        more = drain(sock, 0.5, out, want=1)
        if not more and out.kind != "open":
            break
        data += more
    fr = parse_frames(data)
    if len(fr) < n:
        out.ok = False
        out.note = "%d of %d pipelined ApiVersions answered" % (len(fr), n)
        return
    for i, f in enumerate(fr[:n]):
        check_api_versions(f, 100 + i, out)
        if not out.ok:
            return


def c_valid_then_garbage(ctx, sock, rnd, out):
    send_all(sock, api_versions_v0(61) + b"\xff\xff\xff\xf0garbage", out)
    data = drain(sock, 2, out)
    out.note = "answered first" if parse_frames(data) else "no answer"


def c_no_read(ctx, sock, rnd, out):
    # a reader that never reads: 100 Fetch requests for a partition holding
    # about 512 KiB, then 3 s without reading a byte. A broker that buffers
    # every response shows it in its RSS (the caller's bound).
    part = struct.pack(">iqi", 0, 0, 1 << 20)
    reqs = b"".join(frame(hdr1(1, 4, 200 + i) + struct.pack(">iiiib", -1, 0, 0, 1 << 20, 0)
                          + arr([DATA_TOPIC], lambda t: s16(t) + struct.pack(">i", 1) + part))
                    for i in range(100))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    send_all(sock, reqs, out)
    time.sleep(3)
    out.kind = "held"


def c_idle(ctx, sock, rnd, out):
    drain(sock, 3, out)


def c_churn(ctx, sock, rnd, out):
    sock.close()
    for _ in range(25):
        try:
            s = socket.create_connection((ctx.host, ctx.port), timeout=2)
            if rnd.random() < 0.5:
                s.sendall(b"\x00\x00")
            s.close()
        except OSError:
            pass
    out.kind = "churn"


CASES = [
    ("garbage", c_garbage, False),
    ("garbage-frame", c_garbage_big_prefix, False),
    ("truncated", c_truncated, False),
    ("truncated-claims-more", c_truncated_claims_more, False),
    ("negative-size", c_negative_size, False),
    ("tiny-size", c_tiny_size, False),
    ("oversize", c_oversize, False),
    ("just-under-limit", c_just_under_limit, False),
    ("huge-arrays", c_huge_arrays, False),
    ("huge-arrays-2", c_huge_arrays, False),
    ("unknown-api", c_unknown_api, False),
    ("unknown-version", c_unknown_version, False),
    ("api-versions-v127", c_api_versions_future, False),
    ("bad-crc-batch", c_bad_crc_batch, False),
    ("slow-garbage", c_slow_garbage, False),
    ("slow-prefix-idle", c_slow_prefix_then_idle, False),
    ("slow-valid", c_slow_valid, True),
    ("slow-valid-2", c_slow_valid, True),
    ("pipelined", c_pipelined, True),
    ("valid-then-garbage", c_valid_then_garbage, False),
    ("no-read", c_no_read, False),
    ("idle", c_idle, False),
    ("churn", c_churn, False),
]


class Ctx:
    pass


def one(args, k, seed, stop_at):
    name, fn, must = CASES[k % len(CASES)]
    out = Outcome()
    if time.time() > stop_at:
        out.kind = "skipped"
        return name, must, out
    ctx = Ctx()
    ctx.host, ctx.port = kproto.split_hostport(args.bootstrap)
    ctx.max_frame = args.max_frame_bytes
    ctx.topic = "hostile"
    ctx.k = k
    ctx.ncases = len(CASES)
    rnd = random.Random(seed * 100003 + k)
    try:
        sock = socket.create_connection((ctx.host, ctx.port), timeout=5)
    except OSError as e:
        out.kind = "connect-failed"
        out.note = str(e)
        if must:
            out.ok = False
        return name, must, out
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        fn(ctx, sock, rnd, out)
    except Exception as e:  # noqa: BLE001 - a case must never take the run down
        out.kind = "client-error"
        out.note = repr(e)
        if must:
            out.ok = False
    finally:
        try:
            sock.close()
        except OSError:
            pass
    return name, must, out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--max-frame-bytes", type=int, required=True)
    ap.add_argument("--connections", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    args.connections = max(1, min(args.connections, 1000))
    args.rounds = max(1, min(args.rounds, 10))
    stop_at = time.time() + args.time_limit
    t0 = time.time()
    # the topic the corrupt batches go to must exist, or they are refused unread
    host, port = kproto.split_hostport(args.bootstrap)
    for _ in range(20):
        try:
            with kproto.Conn(host, port) as c:
                if c.partitions("hostile", auto_create=True):
                    break
        except (OSError, kproto.ProtocolError) as e:
            sys.stderr.write("hostile: creating topic 'hostile': %s\n" % e)
        time.sleep(0.25)
    # and the no-read case needs a partition with data: 512 KiB in 64 batches
    try:
        with kproto.Conn(host, port) as c:
            for _ in range(20):
                if c.partitions(DATA_TOPIC, auto_create=True):
                    break
                time.sleep(0.25)
            for j in range(64):
                err, _ = c.produce(DATA_TOPIC, 0, kproto.record_batch(
                    [(b"k%d" % i, bytes([i & 0xFF]) * 1024) for i in range(8)]))
                if err:
                    sys.stderr.write("hostile: producing to %s: error %d\n" % (DATA_TOPIC, err))
                    break
    except (OSError, kproto.ProtocolError) as e:
        sys.stderr.write("hostile: producing to %s: %s\n" % (DATA_TOPIC, e))
    results = []
    lock = threading.Lock()
    for r in range(args.rounds):
        if time.time() > stop_at:
            break
        with ThreadPoolExecutor(max_workers=args.connections) as ex:
            futs = [ex.submit(one, args, r * args.connections + k, args.seed, stop_at)
                    for k in range(args.connections)]
            for f in futs:
                with lock:
                    results.append(f.result())
        sys.stderr.write("hostile: round %d done after %.1f s\n" % (r + 1, time.time() - t0))
    table = {}
    notes = {}
    passed = failed = 0
    for name, must, out in results:
        row = table.setdefault(name, {})
        row[out.kind] = row.get(out.kind, 0) + 1
        if out.note:
            notes.setdefault(name, {}).setdefault(out.note, 0)
            notes[name][out.note] += 1
        if must:
            if out.ok:
                passed += 1
            else:
                failed += 1
    sys.stderr.write("hostile: %d connections in %.1f s; what the broker did, per case:\n"
                     % (len(results), time.time() - t0))
    for name, _fn, must in CASES:
        if name in table:
            kinds = ", ".join("%s %d" % kv for kv in sorted(table[name].items()))
            sys.stderr.write("  %-22s %s%s\n" % (name, kinds, "  [must answer]" if must else ""))
            for note, n in sorted(notes.get(name, {}).items()):
                sys.stderr.write("  %-22s   %dx %s\n" % ("", n, note))
    print("hostile: %d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
