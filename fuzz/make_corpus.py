#!/usr/bin/env python3
"""Builds the seed corpora under fuzz/corpus/<target>/ (standard library only).

    python3 fuzz/make_corpus.py --seeds BUILD/fuzz/kwire-fuzz-seeds

Sources:
  vec-*   real-client frames from tests/vectors (at most two per API key and
          version, the largest first), laid out as each target reads them;
          records fields found inside their Produce requests and Fetch
          responses (every candidate checked: entries, magic, CRC);
  syn-*   one instance of every API key's request and response in chosen
          versions, every message for json, every metadata record / data /
          header message in every version (flexible ones also with an
          unknown tagged field), written by kwire-fuzz-seeds
          (fuzz/make_seeds.c), which checks that each one decodes;
          roundtrip gets the json seeds of its message mode;
  hand-*  small inputs made here: record batches of every kind (control,
          compressed, legacy v0/v1, partial, bad CRC), frame prefixes and
          edge cases; streams of real requests back to back (vec-*-stream).

Files with these prefixes are replaced on every run; anything else in a
corpus directory (regression-* inputs added by hand, found-* inputs that
fuzz/merge_corpus.py merged from fuzzing runs) is left alone.
"""
import argparse
import csv
import gzip
import hashlib
import os
import struct
import subprocess
import sys
import tempfile
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VECTORS = os.path.join(ROOT, "tests", "vectors")
CORPUS = os.path.join(ROOT, "fuzz", "corpus")
TARGETS = ["frame_header", "request", "response", "records", "metadata_records", "json",
           "roundtrip"]
OWN_PREFIXES = ("vec-", "syn-", "hand-")
PER_PAIR = 2  # real-client frames kept per (direction, api key, version)

# ---- checksums and encodings ---------------------------------------------------


def _crc32c_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


CRC32C_TABLE = _crc32c_table()


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = CRC32C_TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def uvarint(v):
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def varint(v):
    return uvarint((v << 1) ^ (v >> 63) if v < 0 else v << 1)


def data_field(b):
    """A record key / value / header value: varint length, -1 for null."""
    return varint(-1) if b is None else varint(len(b)) + b


def record(key, value, headers=(), offset_delta=0, timestamp_delta=0):
    body = bytes([0]) + varint(timestamp_delta) + varint(offset_delta)
    body += data_field(key) + data_field(value) + varint(len(headers))
    for hk, hv in headers:
        body += data_field(hk) + data_field(hv)
    return varint(len(body)) + body


def batch_v2(records, attributes=0, base_offset=0, count=None, producer_id=-1, bad_crc=False,
             compress=None):
    payload = b"".join(records)
    if compress is not None:
        payload = compress(payload)
    n = len(records) if count is None else count
    after_crc = struct.pack(">hiqqqhii", attributes, max(len(records) - 1, 0), 1700000000000,
                            1700000000000, producer_id, -1 if producer_id < 0 else 0,
                            -1 if producer_id < 0 else 0, n) + payload
    crc = crc32c(after_crc) ^ (0xDEADBEEF if bad_crc else 0)
    rest = struct.pack(">ibI", 0, 2, crc) + after_crc  # partition leader epoch, magic, crc
    return struct.pack(">qi", base_offset, len(rest)) + rest


def legacy(magic, key, value, attributes=0, offset=0, timestamp=1700000000000):
    body = struct.pack(">bb", magic, attributes)
    if magic == 1:
        body += struct.pack(">q", timestamp)
    for b in (key, value):
        body += struct.pack(">i", -1) if b is None else struct.pack(">i", len(b)) + b
    msg = struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF) + body
    return struct.pack(">qi", offset, len(msg)) + msg


def i16(v):
    return struct.pack(">h", v)


def be32(v):
    return struct.pack(">i", v)


# ---- records fields inside real frames -----------------------------------------


def entries_valid(buf):
    """True when buf is a run of whole record entries (a partial tail allowed)
    whose magic and checksum hold."""
    pos, whole = 0, 0
    while pos + 12 <= len(buf):
        length = struct.unpack_from(">i", buf, pos + 8)[0]
        if length < 0:
            return False
        end = pos + 12 + length
        if end > len(buf):
            break  # a partial entry, as Fetch responses may end
        if length < 5:
            return False
        magic = buf[pos + 16]
        if magic == 2:
            if length < 49:
                return False
            crc = struct.unpack_from(">I", buf, pos + 17)[0]
            if crc32c(buf[pos + 21:end]) != crc:
                return False
        elif magic in (0, 1):
            crc = struct.unpack_from(">I", buf, pos + 12)[0]
            if zlib.crc32(buf[pos + 16:end]) & 0xFFFFFFFF != crc:
                return False
        else:
            return False
        whole += 1
        pos = end
    return whole > 0


def find_records(body):
    """Records fields (int32 length, then entries) anywhere in a frame body."""
    found = []
    i = 0
    while i + 4 + 12 <= len(body):
        n = struct.unpack_from(">i", body, i)[0]
        if n >= 12 + 14 and i + 4 + n <= len(body) and entries_valid(body[i + 4:i + 4 + n]):
            found.append(body[i + 4:i + 4 + n])
            i += 4 + n
            continue
        i += 1
    return found


# ---- the corpus directories ---------------------------------------------------


class Corpus:
    def __init__(self):
        self.files = {t: {} for t in TARGETS}  # target -> name -> bytes
        self.seen = {t: set() for t in TARGETS}

    def add(self, target, name, data):
        digest = hashlib.sha1(data).hexdigest()
        if digest in self.seen[target]:
            return
        self.seen[target].add(digest)
        base, k = name, 2
        while name in self.files[target]:
            name = f"{base}-{k}"
            k += 1
        self.files[target][name] = data

    def write(self):
        for t in TARGETS:
            d = os.path.join(CORPUS, t)
            os.makedirs(d, exist_ok=True)
            for f in os.listdir(d):
                if f.startswith(OWN_PREFIXES):
                    os.remove(os.path.join(d, f))
            for name, data in sorted(self.files[t].items()):
                with open(os.path.join(d, name), "wb") as f:
                    f.write(data)
            total = sum(len(v) for v in self.files[t].values())
            print(f"make_corpus: {t}: {len(self.files[t])} files, {total} bytes")


def load_vectors():
    rows = []
    for s in sorted(os.listdir(VECTORS)):
        index = os.path.join(VECTORS, s, "index.tsv")
        if not os.path.exists(index):
            continue
        with open(index, newline="") as f:
            for row in csv.DictReader(f, delimiter="\t"):
                with open(os.path.join(VECTORS, s, row["file"]), "rb") as g:
                    row["bytes"] = g.read()
                row["set"] = s
                rows.append(row)
    return rows


def add_vectors(c, rows):
    by_pair = {}
    for r in rows:
        by_pair.setdefault((r["direction"], int(r["api_key"]), int(r["api_version"])), []).append(r)
    for (direction, key, version), rs in sorted(by_pair.items()):
        # the largest first, one per client set before a second from the same set
        rs.sort(key=lambda r: -len(r["bytes"]))
        picked, sets = [], set()
        for r in rs:
            if r["set"] not in sets:
                picked.append(r)
                sets.add(r["set"])
        picked += [r for r in rs if r not in picked]
        for r in picked[:PER_PAIR]:
            frame = r["bytes"]
            name = f"vec-{r['set']}-{os.path.splitext(r['file'])[0]}"
            if direction == "req":
                c.add("frame_header", name, frame)
                c.add("request", name, frame[4:])
            else:
                c.add("response", name, struct.pack(">hh", key, version) + frame[4:])
    # records fields from every Produce request and Fetch response
    for r in rows:
        key, direction = int(r["api_key"]), r["direction"]
        if (key, direction) in ((0, "req"), (1, "rsp")):
            for i, rec in enumerate(find_records(r["bytes"][4:])):
                name = f"vec-{r['set']}-{os.path.splitext(r['file'])[0]}-records{i}"
                c.add("records", name, rec)
                c.add("json", name, bytes([7]) + rec)
    # streams: the requests of one connection back to back, as a broker reads them
    for s in sorted({r["set"] for r in rows}):
        reqs = [r["bytes"] for r in rows if r["set"] == s and r["direction"] == "req"][:8]
        c.add("frame_header", f"vec-{s}-stream", b"".join(reqs))


def add_hand_records(c):
    recs = [record(b"k%d" % i, b"value-%d" % i, [(b"hdr", b"%d" % i), (b"src", b"hand")], i, i)
            for i in range(3)]
    seeds = {
        "v2-three-records": batch_v2(recs),
        "v2-nulls": batch_v2([record(None, None, [(b"h", None)]), record(b"", b"")]),
        "v2-control-commit": batch_v2([record(i16(0) + i16(1), i16(0) + be32(5))],
                                      attributes=0x30, producer_id=42),
        "v2-control-abort": batch_v2([record(i16(0) + i16(0), i16(0) + be32(5))],
                                     attributes=0x30, producer_id=42),
        "v2-gzip": batch_v2(recs, attributes=1, compress=lambda b: gzip.compress(b, mtime=0)),
        "v2-zstd-attr": batch_v2(recs, attributes=4),
        "v2-log-append-time": batch_v2(recs, attributes=0x08 | 0x40),
        "v2-transactional": batch_v2(recs, attributes=0x10, producer_id=7),
        "v2-two-and-partial": batch_v2(recs[:1]) + batch_v2(recs[1:], base_offset=1)
        + batch_v2(recs)[:40],
        "v2-bad-crc": batch_v2(recs, bad_crc=True),
        "v2-count-mismatch": batch_v2(recs, count=5),
        "v2-big-varints": batch_v2([record(b"k", b"v", [], 2**31 - 1, 2**62)]),
        "legacy-v0": legacy(0, b"k", b"v0") + legacy(0, None, b"v1", offset=1),
        "legacy-v1": legacy(1, b"k", b"v", attributes=0x08) + legacy(1, None, None, offset=1),
        "legacy-v1-gzip": legacy(1, None, gzip.compress(legacy(1, b"in", b"ner"), mtime=0),
                                 attributes=1),
        "empty": b"",
    }
    for name, data in seeds.items():
        c.add("records", "hand-" + name, data)
        c.add("json", "hand-records-" + name, bytes([7]) + data)


def add_hand_frames(c):
    frames = {
        "prefix-only": be32(100),
        "negative-size": be32(-2) + b"\0" * 8,
        "too-large": be32(1 << 20) + b"\0" * 8,
        "empty-frame": be32(0) + be32(0),
        "unknown-key": be32(10) + struct.pack(">hhi", 200, 0, 1) + i16(-1),
        "unsupported-version": be32(10) + struct.pack(">hhi", 0, 99, 1) + i16(-1),
    }
    for name, data in frames.items():
        c.add("frame_header", "hand-" + name, data)


def add_synthesized(c, seeds):
    with tempfile.TemporaryDirectory() as out:
        subprocess.run([seeds, out], check=True)
        for t in sorted(os.listdir(out)):
            for name in sorted(os.listdir(os.path.join(out, t))):
                with open(os.path.join(out, t, name), "rb") as f:
                    data = f.read()
                c.add(t, name, data)


def add_roundtrip(c):
    """roundtrip reads the json target's message mode (mode byte with bit 0
    clear, 4 selector bytes, the message): every such json seed."""
    for name, data in sorted(c.files["json"].items()):
        if len(data) >= 5 and not data[0] & 1:
            c.add("roundtrip", name, data)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", required=True,
                    help="the kwire-fuzz-seeds executable of a build (BUILD/fuzz/kwire-fuzz-seeds)")
    args = ap.parse_args()
    c = Corpus()
    rows = load_vectors()
    if not rows:
        sys.exit(f"make_corpus: no vectors under {VECTORS}")
    add_vectors(c, rows)
    add_hand_records(c)
    add_hand_frames(c)
    add_synthesized(c, args.seeds)
    add_roundtrip(c)
    c.write()


if __name__ == "__main__":
    main()
