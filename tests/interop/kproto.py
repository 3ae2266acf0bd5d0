"""A minimal Kafka protocol client in plain Python (standard library only).

The interop tests use it to look at a broker without going through the
client under test: ApiVersions (is it answering?), Metadata (partitions of a
topic), ListOffsets (end offsets) and OffsetFetch (a group's committed
offsets). Only non-flexible versions are spoken; the version of each request
is the highest both this module and the broker (by ApiVersions) know.
"""
import socket
import struct

API_PRODUCE = 0
API_FETCH = 1
API_LIST_OFFSETS = 2
API_METADATA = 3
API_OFFSET_FETCH = 9
API_API_VERSIONS = 18

# highest non-flexible version this module encodes and decodes, per API
OURS = {API_LIST_OFFSETS: (1, 5), API_METADATA: (1, 8), API_OFFSET_FETCH: (1, 5),
        API_API_VERSIONS: (0, 2)}


class ProtocolError(Exception):
    pass


class Reader:
    def __init__(self, data):
        self.b = data
        self.p = 0

    def take(self, n):
        if n < 0 or self.p + n > len(self.b):
            raise ProtocolError("response truncated at byte %d (wanted %d)" % (self.p, n))
        v = self.b[self.p:self.p + n]
        self.p += n
        return v

    def i8(self):
        return struct.unpack(">b", self.take(1))[0]

    def i16(self):
        return struct.unpack(">h", self.take(2))[0]

    def i32(self):
        return struct.unpack(">i", self.take(4))[0]

    def i64(self):
        return struct.unpack(">q", self.take(8))[0]

    def string(self):
        n = self.i16()
        return None if n < 0 else self.take(n).decode("utf-8", "replace")

    def bytes_(self):
        n = self.i32()
        return None if n < 0 else self.take(n)

    def array(self, item):
        n = self.i32()
        if n < 0:
            return None
        if n > len(self.b) - self.p:
            raise ProtocolError("array count %d larger than the bytes left" % n)
        return [item() for _ in range(n)]


def s16(s):
    if s is None:
        return struct.pack(">h", -1)
    b = s.encode() if isinstance(s, str) else s
    return struct.pack(">h", len(b)) + b


def arr(items, enc):
    if items is None:
        return struct.pack(">i", -1)
    return struct.pack(">i", len(items)) + b"".join(enc(x) for x in items)


def request_frame(api_key, version, corr, body, client_id="kwire-interop"):
    """A whole request frame (size prefix included), header v1."""
    payload = struct.pack(">hhi", api_key, version, corr) + s16(client_id) + body
    return struct.pack(">i", len(payload)) + payload


def recv_exact(sock, n):
    out = bytearray()
    while len(out) < n:
        chunk = sock.recv(n - len(out))
        if not chunk:
            raise ProtocolError("connection closed after %d of %d bytes" % (len(out), n))
        out += chunk
    return bytes(out)


def read_frame(sock, max_bytes=64 << 20):
    (n,) = struct.unpack(">i", recv_exact(sock, 4))
    if n < 4 or n > max_bytes:
        raise ProtocolError("response frame size %d" % n)
    return recv_exact(sock, n)


class Conn:
    def __init__(self, host, port, timeout=10.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.settimeout(timeout)
        self.corr = 0
        self.versions = None

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def call(self, api_key, version, body):
        """Sends one request; returns a Reader over the response body."""
        self.corr += 1
        corr = self.corr
        self.sock.sendall(request_frame(api_key, version, corr, body))
        frame = read_frame(self.sock)
        r = Reader(frame)
        got = r.i32()
        if got != corr:
            raise ProtocolError("correlation id %d, expected %d" % (got, corr))
        return r

    def api_versions(self):
        """{api_key: (min, max)} from ApiVersions v0; raises on an error code."""
        r = self.call(API_API_VERSIONS, 0, b"")
        err = r.i16()
        keys = r.array(lambda: (r.i16(), r.i16(), r.i16()))
        if err != 0:
            raise ProtocolError("ApiVersions error %d" % err)
        self.versions = {k: (lo, hi) for k, lo, hi in keys or []}
        return self.versions

    def pick(self, api_key):
        if self.versions is None:
            self.api_versions()
        if api_key not in self.versions:
            raise ProtocolError("broker does not list API key %d" % api_key)
        lo, hi = self.versions[api_key]
        mlo, mhi = OURS[api_key]
        v = min(hi, mhi)
        if v < max(lo, mlo):
            raise ProtocolError("no common version of API %d (broker %d..%d, ours %d..%d)"
                                % (api_key, lo, hi, mlo, mhi))
        return v

    def partitions(self, topic, auto_create=False):
        """Sorted partition ids of topic from Metadata (auto-creating it only
        when asked; before v4 that is up to the broker)."""
        v = self.pick(API_METADATA)
        body = arr([topic], s16)
        if v >= 4:
            body += b"\x01" if auto_create else b"\x00"  # allow_auto_topic_creation
        if v >= 8:
            body += b"\x00\x00"  # include cluster / topic authorized operations
        r = self.call(API_METADATA, v, body)
        if v >= 3:
            r.i32()  # throttle
        r.array(lambda: (r.i32(), r.string(), r.i32(), r.string()))  # brokers
        if v >= 2:
            r.string()  # cluster id
        r.i32()  # controller

        def part():
            err, idx, leader = r.i16(), r.i32(), r.i32()
            if v >= 7:
                r.i32()
            r.array(r.i32)
            r.array(r.i32)
            if v >= 5:
                r.array(r.i32)
            return idx, err

        def top():
            err, name, _internal = r.i16(), r.string(), r.i8()
            parts = r.array(part)
            if v >= 8:
                r.i32()
            return name, err, parts

        topics = r.array(top)
        for name, err, parts in topics or []:
            if name == topic:
                if err != 0:
                    raise ProtocolError("Metadata error %d for %s" % (err, topic))
                return sorted(p for p, _ in parts or [])
        raise ProtocolError("topic %s not in the Metadata response" % topic)

    def produce(self, topic, partition, batch, acks=-1):
        """Produce v3 of one batch; returns (error code, base offset)."""
        body = (s16(None) + struct.pack(">hi", acks, 10000)
                + arr([topic], lambda t: s16(t) + struct.pack(">ii", 1, partition)
                      + struct.pack(">i", len(batch)) + batch))
        r = self.call(API_PRODUCE, 3, body)
        out = []
        r.array(lambda: (r.string(), r.array(lambda: out.append((r.i32(), r.i16(), r.i64(), r.i64())))))
        if not out:
            raise ProtocolError("empty Produce response")
        return out[0][1], out[0][2]

    def end_offsets(self, topic, partitions, errors=None):
        """{partition: end offset} from ListOffsets (timestamp -1). A
        partition error raises, unless errors is a dict: then it gets
        {partition: error code} and the partition is left out."""
        v = self.pick(API_LIST_OFFSETS)

        def enc_part(p):
            b = struct.pack(">i", p)
            if v >= 4:
                b += struct.pack(">i", -1)  # current leader epoch
            return b + struct.pack(">q", -1)

        body = struct.pack(">i", -1)  # replica id
        if v >= 2:
            body += b"\x00"  # isolation level: read uncommitted
        body += arr([topic], lambda t: s16(t) + arr(partitions, enc_part))
        r = self.call(API_LIST_OFFSETS, v, body)
        if v >= 2:
            r.i32()
        out = {}

        def part():
            p, err, _ts, off = r.i32(), r.i16(), r.i64(), r.i64()
            if v >= 4:
                r.i32()
            if err != 0:
                if errors is None:
                    raise ProtocolError("ListOffsets error %d for partition %d" % (err, p))
                errors[p] = err
                return
            out[p] = off

        r.array(lambda: (r.string(), r.array(part)))
        return out

    def committed(self, group, topic, partitions):
        """{partition: committed offset or -1} from OffsetFetch."""
        v = self.pick(API_OFFSET_FETCH)
        body = s16(group) + arr([topic], lambda t: s16(t) + arr(partitions, lambda p: struct.pack(">i", p)))
        r = self.call(API_OFFSET_FETCH, v, body)
        if v >= 3:
            r.i32()
        out = {}

        def part():
            p, off = r.i32(), r.i64()
            if v >= 5:
                r.i32()
            r.string()
            err = r.i16()
            if err != 0:
                raise ProtocolError("OffsetFetch error %d for partition %d" % (err, p))
            out[p] = off

        r.array(lambda: (r.string(), r.array(part)))
        if v >= 2:
            err = r.i16()
            if err != 0:
                raise ProtocolError("OffsetFetch error %d" % err)
        return out


def _crc32c_table():
    t = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ (0x82F63B78 if c & 1 else 0)
        t.append(c)
    return t


_CRC32C = _crc32c_table()


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = _CRC32C[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def zigzag_varint(n):
    n = (n << 1) ^ (n >> 63)
    out = bytearray()
    while True:
        if n < 0x80:
            out.append(n)
            return bytes(out)
        out.append((n & 0x7F) | 0x80)
        n >>= 7


def record_batch(records, base_offset=0):
    """A v2 record batch (magic 2, no compression, CRC-32C set) holding
    records, a list of (key, value) bytes (None for null)."""
    body = bytearray()
    for i, (k, v) in enumerate(records):
        r = b"\x00" + zigzag_varint(0) + zigzag_varint(i)
        r += zigzag_varint(-1) if k is None else zigzag_varint(len(k)) + k
        r += zigzag_varint(-1) if v is None else zigzag_varint(len(v)) + v
        r += zigzag_varint(0)  # no headers
        body += zigzag_varint(len(r)) + r
    after = struct.pack(">hiqqqhii", 0, len(records) - 1, 0, 0, -1, -1, -1, len(records)) + bytes(body)
    rest = struct.pack(">ibI", 0, 2, crc32c(after)) + after
    return struct.pack(">qi", base_offset, len(rest)) + rest


def split_hostport(s):
    host, _, port = s.rpartition(":")
    return host, int(port)
