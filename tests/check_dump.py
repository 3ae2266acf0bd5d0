#!/usr/bin/env python3
"""Run kwire-dump over the captured frames and compare it with Wireshark's view.

usage: check_dump.py KWIRE_DUMP VECTORS_DIR

VECTORS_DIR is tests/vectors: one directory per capture set, each with index.tsv,
tshark.tsv and one .bin per frame (see tests/vectors/README.md). Standard library only.

1. Every frame of every set goes through kwire-dump: requests as they are, responses
   with --response KEY VERSION from index.tsv. Each must exit 0 and print exactly one
   JSON object whose api_key, api_version, correlation_id and size (the length prefix,
   so index size - 4) match index.tsv. To stay fast, the files of a set go in one run
   per direction and (key, version); kwire-dump reads every file argument as its own
   stream and names it in "source". When a run fails, its files are run one by one so
   the failure is pinned to a file. The librdkafka mock broker's ApiVersions v3
   responses with error 35 do not follow the spec (README): kwire-dump must reject
   them: exit 1, and stderr names ApiVersionsResponse v0 (KIP-511: read as v3, which
   fails, then as v0, which fails too), the field .api_keys and the byte of its count.
   Hand-made ApiVersions v3 error answers decode: a v3 body as v3, a v0 body as v0.

2. Each decoded frame is compared with its row in tshark.tsv (Wireshark 4.0's Kafka
   dissector), joined on (pcap_frame, dir, order within the packet). When deduplication
   dropped some frames of a packet, the order within the packet is unknown and the row is
   picked by correlation id instead; correlation_id is then not an independent check for
   that frame (it is counted as "corr-joined" in the summary).

   Compared for every frame:
     api_key, api_version, correlation_id, length (tshark) = size (kwire),
     client_id (requests only).
   Compared for every frame whose body tshark decoded (see TSHARK_UNDECODED):
     topics      distinct topic names, in order of first appearance, from the fields in
                 TOPIC_PATHS for the frame's (direction, api_key). An API without an entry
                 contributes no topics, so tshark must not show any either (that holds
                 for DescribeConfigs / AlterConfigs resource names, which Wireshark does
                 not label as topics, and for JoinGroup / SyncGroup, whose embedded
                 consumer-protocol topics Wireshark does not decode).
     partitions  every partition id, in wire order, from PARTITION_PATHS.
     batches     number of v2 record batches (magic 2) in all "records" fields.
     records     records in those batches (the "records" array; record_count when the
                 batch is compressed and kwire does not expand it) plus one per legacy
                 (magic 0/1) message-set entry. Every batch must also carry crc_ok true
                 (real clients' batches), and no records field may report an error.
     errors      every non-zero "error_code" anywhere in the body, in wire order (tshark
                 lists every non-zero kafka.error in the packet, in order).
     group       distinct consumer group names, from GROUP_PATHS (group_id fields;
                 FindCoordinator v0's key, which Wireshark labels a consumer group, while
                 from v1 on it shows the key as a coordinator key and not as a group).
   Skipped: timestamps of any kind (Wireshark 4.0 shows batch first-timestamps wrongly).

3. Corruption: a few frames get one byte changed inside a known field (offsets worked out
   below by parsing those frames here). kwire-dump must exit 1 and its stderr must name
   the message and version, the field path, the error code and the byte offset (from the
   start of the frame after the length prefix, as kwire-dump counts), and the hex window
   must mark the byte at that offset with "[xx]". Where the error sits: a count or a
   length that is negative, null where not allowed, or a count too large for the bytes
   left is reported at its own first byte (the changed one); a string length that runs
   past the end is reported as TRUNCATED at the first byte of the string's payload, just
   after the length, where the read falls short (kwire's cursor does it that way).
   The line after names what the field expected and what was left: for a length or a
   count that runs past the end, "expected: N bytes from byte B (...); remaining: R
   bytes" with N the length (or count x the least bytes one element takes), B where
   those bytes start and R = frame size - B; otherwise "remaining: R bytes from byte B".

Exit status: 0 when everything passed, 1 otherwise. The last line is
"dump: N passed, M failed", counting frames and corruption cases.
"""

import collections
import csv
import json
import os
import re
import struct
import subprocess
import sys
import tempfile

# ---------------------------------------------------------------------------
# Field maps, by (direction, api_key). A path is a dotted list of keys; "[]" after a
# key walks every element of that array. Paths of one entry are read one after the
# other, which is wire order because the fields they name follow each other.

TOPIC_PATHS = {
    ('req', 0): ['topic_data[].name'],                          # Produce
    ('req', 1): ['topics[].topic', 'forgotten_topics_data[].topic'],  # Fetch
    ('req', 2): ['topics[].name'],                              # ListOffsets
    ('req', 3): ['topics[].name'],                              # Metadata
    ('req', 8): ['topics[].name'],                              # OffsetCommit
    ('req', 9): ['topics[].name', 'groups[].topics[].name'],    # OffsetFetch
    ('req', 19): ['topics[].name'],                             # CreateTopics
    ('req', 20): ['topic_names[]', 'topics[].name'],            # DeleteTopics
    ('req', 37): ['topics[].name'],                             # CreatePartitions
    ('req', 45): ['topics[].name'],                             # AlterPartitionReassignments
    ('req', 46): ['topics[].name'],                             # ListPartitionReassignments
    ('rsp', 0): ['responses[].name'],                           # Produce
    ('rsp', 1): ['responses[].topic'],                          # Fetch
    ('rsp', 2): ['topics[].name'],                              # ListOffsets
    ('rsp', 3): ['topics[].name'],                              # Metadata
    ('rsp', 8): ['topics[].name'],                              # OffsetCommit
    ('rsp', 9): ['topics[].name', 'groups[].topics[].name'],    # OffsetFetch
}

PARTITION_PATHS = {
    ('req', 0): ['topic_data[].partition_data[].index'],
    ('req', 1): ['topics[].partitions[].partition', 'forgotten_topics_data[].partitions[]'],
    ('req', 2): ['topics[].partitions[].partition_index'],
    ('req', 8): ['topics[].partitions[].partition_index'],
    ('req', 9): ['topics[].partition_indexes[]', 'groups[].topics[].partition_indexes[]'],
    ('req', 45): ['topics[].partitions[].partition_index'],
    ('req', 46): ['topics[].partition_indexes[]'],
    ('rsp', 0): ['responses[].partition_responses[].index'],
    ('rsp', 1): ['responses[].partitions[].partition_index'],
    ('rsp', 2): ['topics[].partitions[].partition_index'],
    ('rsp', 3): ['topics[].partitions[].partition_index'],
    ('rsp', 8): ['topics[].partitions[].partition_index'],
    ('rsp', 9): ['topics[].partitions[].partition_index',
                 'groups[].topics[].partitions[].partition_index'],
}

GROUP_PATHS = {
    ('req', 8): ['group_id'],        # OffsetCommit
    ('req', 9): ['group_id', 'groups[].group_id'],  # OffsetFetch
    ('req', 11): ['group_id'],       # JoinGroup
    ('req', 12): ['group_id'],       # Heartbeat
    ('req', 13): ['group_id'],       # LeaveGroup
    ('req', 14): ['group_id'],       # SyncGroup
}
# FindCoordinator v0: the key is the group id (see group in the docstring).
FIND_COORDINATOR = 10

# (api_key, api_version) of requests whose body Wireshark 4.0 cannot show (README):
# InitProducerId v4 is unsupported, AlterPartitionReassignments v0 and
# ListPartitionReassignments v0 are shown as malformed. Their body fields are skipped
# only if the tshark row confirms it: an unknown API name ("k45") or every body column
# empty. Header fields are still compared.
TSHARK_UNDECODED = {(22, 4), (45, 0), (46, 0)}

BODY_FIELDS = ('topics', 'partitions', 'batches', 'records', 'errors', 'group')
HEADER_FIELDS = ('api_key', 'api_version', 'correlation_id', 'length', 'client_id')

# The mock broker's ApiVersions v3 error answers (README: not per the spec).
MALFORMED_RE = re.compile(r'_rsp_k18-ApiVersions_v3_')

# ---------------------------------------------------------------------------
# Helpers


def select(obj, path):
    """Values at a dotted path; "key[]" walks an array, null arrays give nothing."""
    values = [obj]
    for part in path.split('.'):
        walk = part.endswith('[]')
        name = part[:-2] if walk else part
        nxt = []
        for v in values:
            if not isinstance(v, dict) or name not in v:
                continue
            child = v[name]
            if walk:
                if isinstance(child, list):
                    nxt.extend(child)
            else:
                nxt.append(child)
        values = nxt
    return values


def select_all(obj, paths):
    out = []
    for p in paths:
        out.extend(select(obj, p))
    return out


def distinct(values):
    seen, out = set(), []
    for v in values:
        if v not in seen:
            seen.add(v)
            out.append(v)
    return out


def walk_json(obj, visit):
    visit(obj)
    if isinstance(obj, dict):
        for v in obj.values():
            walk_json(v, visit)
    elif isinstance(obj, list):
        for v in obj:
            walk_json(v, visit)


def records_counts(body, problems):
    """(v2 batches, records) over every records field of a body."""
    batches = records = 0

    def visit(o):
        nonlocal batches, records
        if not (isinstance(o, dict) and 'batches' in o and 'bytes' in o):
            return
        if 'error' in o:
            problems.append('records field reports %s' % json.dumps(o['error']))
        for b in o['batches']:
            if b.get('crc_ok') is False:
                problems.append('batch crc_ok is false (crc %s)' % b.get('crc'))
            if b.get('magic') == 2:
                batches += 1
                if 'records' in b:
                    records += len(b['records'])
                    if 'error' in b:
                        problems.append('record batch reports %s' % json.dumps(b['error']))
                else:
                    records += b['record_count']
            else:
                records += 1
    walk_json(body, visit)
    return batches, records


def error_codes(body):
    codes = []

    def visit(o):
        if isinstance(o, dict):
            v = o.get('error_code')
            if isinstance(v, int) and not isinstance(v, bool) and v != 0:
                codes.append(v)
    walk_json(body, visit)
    return codes


def split_list(text):
    return [x for x in text.split(',') if x != ''] if text else []


def read_tsv(path):
    with open(path, newline='') as f:
        return list(csv.DictReader(f, delimiter='\t'))


def run(args):
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return p.returncode, p.stdout.decode('utf-8', 'replace'), p.stderr.decode('utf-8', 'replace')


class Result:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def fail(self, where, field, kwire, tshark_or_expected, label='tshark'):
        print('FAIL %s: %s: kwire=%r %s=%r' % (where, field, kwire, label, tshark_or_expected))


# ---------------------------------------------------------------------------
# 1 and 2: the frames


def decode_set(dump, set_dir, rows):
    """{file: (rc, json object or None, problem or None, stderr)} for every good frame."""
    groups = collections.OrderedDict()
    for r in rows:
        if MALFORMED_RE.search(r['file']):
            continue
        if r['direction'] == 'req':
            key = ('req',)
        else:
            key = ('rsp', r['api_key'], r['api_version'])
        groups.setdefault(key, []).append(r['file'])

    results = {}

    def args_for(key, files):
        # --roundtrip: every frame must also re-encode to its own bytes
        opts = ['--roundtrip'] + ([] if key[0] == 'req' else ['--response', key[1], key[2]])
        return [dump] + opts + [os.path.join(set_dir, f) for f in files]

    def parse(stdout, files):
        by_file = {f: [] for f in files}
        stray = []
        path_to_file = {os.path.join(set_dir, f): f for f in files}
        for line in stdout.splitlines():
            try:
                obj = json.loads(line)
            except ValueError:
                stray.append(line)
                continue
            f = path_to_file.get(obj.get('source')) if isinstance(obj, dict) else None
            if f is None:
                stray.append(line)
            else:
                by_file[f].append(obj)
        return by_file, stray

    for key, files in groups.items():
        rc, out, err = run(args_for(key, files))
        by_file, stray = parse(out, files)
        if rc == 0 and not stray and all(len(v) == 1 for v in by_file.values()):
            for f in files:
                results[f] = (0, by_file[f][0], None, '')
            continue
        # Something went wrong: pin it down file by file.
        for f in files:
            rc1, out1, err1 = run(args_for(key, [f]))
            lines = out1.splitlines()
            objs, bad = [], []
            for line in lines:
                try:
                    objs.append(json.loads(line))
                except ValueError:
                    bad.append(line)
            problem = None
            if rc1 != 0:
                first = err1.strip().splitlines()[0] if err1.strip() else ''
                problem = 'exit status %d: %s' % (rc1, first)
            elif bad:
                problem = 'output line is not JSON: %r' % bad[0][:200]
            elif len(objs) != 1:
                problem = 'expected one JSON line, got %d' % len(objs)
            results[f] = (rc1, objs[0] if len(objs) == 1 else None, problem, err1)
    return results


def check_malformed(dump, set_dir, row, res):
    """The mock's ApiVersions v3 error answers must be rejected."""
    where = '%s/%s' % (os.path.basename(set_dir), row['file'])
    path = os.path.join(set_dir, row['file'])
    rc, out, err = run([dump, '--response', row['api_key'], row['api_version'], path])
    # header_len counts the 4-byte prefix; kwire-dump counts from after it. The v0
    # body starts with error_code (int16), then the api_keys int32 count.
    count_at = int(row['header_len']) - 4 + 2
    ok = True
    if rc != 1:
        res.fail(where, 'exit status', rc, 1, 'expected')
        ok = False
    if not re.search(r'ApiVersionsResponse v0 \.api_keys: [A-Z_]+ \(.*\) at byte %d of the frame'
                     % count_at, err):
        res.fail(where, 'stderr', err.strip()[:300],
                 'ApiVersionsResponse v0 .api_keys: ... at byte %d' % count_at, 'expected')
        ok = False
    return ok


def tshark_undecoded(row, trow):
    key = (int(trow['api_key']), int(trow['api_version']))
    if key not in TSHARK_UNDECODED or row['direction'] != 'req':
        return False
    unknown_name = re.fullmatch(r'k\d+', trow['api_name']) is not None
    empty = all(trow[c] in ('', '0') for c in BODY_FIELDS)
    return unknown_name or empty


def join_tshark(rows, trows):
    """{file: (tshark row, joined_by_corr)}; frames without a row are left out."""
    by_packet = collections.defaultdict(list)
    for t in trows:
        by_packet[(t['pcap_frame'], t['dir'])].append(t)
    mine = collections.defaultdict(list)
    for r in rows:
        mine[(r['pcap_frame'], r['direction'])].append(r)
    joined = {}
    for key, rs in mine.items():
        ts = by_packet.get(key, [])
        rs = sorted(rs, key=lambda r: r['file'])  # NNNNN: capture order
        if len(ts) == len(rs):
            for r, t in zip(rs, ts):
                joined[r['file']] = (t, False)
        else:
            for r in rs:
                cand = [t for t in ts if t['correlation_id'] == r['correlation_id']]
                if len(cand) == 1:
                    joined[r['file']] = (cand[0], True)
    return joined


def compare_frame(where, row, obj, trow, res, counts):
    """Returns True when kwire agrees with tshark on every compared field."""
    ok = True
    direction = row['direction']
    key = int(row['api_key'])
    version = int(row['api_version'])

    def cmp(field, mine, theirs):
        nonlocal ok
        counts[field] += 1
        if theirs not in ([], 0, ''):
            counts[field + ' non-empty'] += 1
        if mine != theirs:
            res.fail(where, field, mine, theirs)
            ok = False

    cmp('api_key', obj['api_key'], int(trow['api_key']))
    cmp('api_version', obj['api_version'], int(trow['api_version']))
    cmp('correlation_id', obj['correlation_id'], int(trow['correlation_id']))
    cmp('length', obj['size'], int(trow['length']))
    if direction == 'req':
        cmp('client_id', obj['client_id'] or '', trow['client_id'])

    if tshark_undecoded(row, trow):
        counts['body skipped (tshark undecoded)'] += 1
        return ok

    body = obj['body']
    problems = []
    sel = (direction, key)
    topics = distinct(select_all(body, TOPIC_PATHS.get(sel, [])))
    cmp('topics', topics, split_list(trow['topics']))
    parts = select_all(body, PARTITION_PATHS.get(sel, []))
    cmp('partitions', [str(p) for p in parts], split_list(trow['partitions']))
    batches, records = records_counts(body, problems)
    cmp('batches', batches, int(trow['batches'] or 0))
    cmp('records', records, int(trow['records'] or 0))
    cmp('errors', [str(e) for e in error_codes(body)], split_list(trow['errors']))
    gpaths = GROUP_PATHS.get(sel, [])
    if sel == ('req', FIND_COORDINATOR) and version == 0:
        gpaths = ['key']
    groups = distinct(g for g in select_all(body, gpaths) if g is not None)
    cmp('group', groups, split_list(trow['group']))
    for p in problems:
        res.fail(where, 'records', p, 'no error', 'expected')
        ok = False
    return ok


def check_set(dump, set_dir, res):
    name = os.path.basename(set_dir)
    rows = read_tsv(os.path.join(set_dir, 'index.tsv'))
    tpath = os.path.join(set_dir, 'tshark.tsv')
    trows = read_tsv(tpath) if os.path.exists(tpath) else []
    decoded = decode_set(dump, set_dir, rows)
    joined = join_tshark(rows, trows)
    counts = collections.Counter()
    for row in rows:
        where = '%s/%s' % (name, row['file'])
        counts['frames'] += 1
        if MALFORMED_RE.search(row['file']):
            counts['rejected as malformed'] += 1
            if check_malformed(dump, set_dir, row, res):
                res.passed += 1
            else:
                res.failed += 1
            continue
        rc, obj, problem, err = decoded[row['file']]
        ok = True
        if problem:
            res.fail(where, 'decode', problem, 'exit 0 and one JSON line', 'expected')
            res.failed += 1
            continue
        counts['decoded'] += 1
        want = {
            'direction': 'request' if row['direction'] == 'req' else 'response',
            'api_key': int(row['api_key']),
            'api_version': int(row['api_version']),
            'correlation_id': int(row['correlation_id']),
            'size': int(row['size']) - 4,  # kwire-dump's size is the length prefix
            'frame': 0,
            'offset': 0,
            'roundtrip': 'identical',
        }
        for k, v in want.items():
            if obj.get(k) != v:
                res.fail(where, k, obj.get(k), v, 'index')
                ok = False
        if 'body' not in obj or 'error' in obj:
            res.fail(where, 'body', obj.get('error'), 'a decoded body', 'expected')
            ok = False
        elif row['file'] in joined:
            trow, by_corr = joined[row['file']]
            counts['compared with tshark'] += 1
            if by_corr:
                counts['corr-joined'] += 1
            if not compare_frame(where, row, obj, trow, res, counts):
                ok = False
        elif trows:
            res.fail(where, 'tshark row', None, 'a row for pcap_frame %s' % row['pcap_frame'],
                     'expected')
            ok = False
        if ok:
            res.passed += 1
        else:
            res.failed += 1
    order = ['frames', 'decoded', 'rejected as malformed', 'compared with tshark', 'corr-joined',
             'body skipped (tshark undecoded)']
    print('%s: %s' % (name, ', '.join('%s %d' % (k, counts[k]) for k in order)))
    # Per field: frames compared; for body fields also how many of them had a non-empty
    # (non-zero) value on tshark's side, so comparisons of empty lists show as such.
    print('  fields compared: %s' % ', '.join(
        ['%s %d' % (k, counts[k]) for k in HEADER_FIELDS] +
        ['%s %d (%d non-empty)' % (k, counts[k], counts[k + ' non-empty']) for k in BODY_FIELDS]))


# ---------------------------------------------------------------------------
# 3: corruption


class Frame:
    """A reader over one .bin file; offsets are those of kwire-dump (after the prefix)."""

    def __init__(self, data):
        self.data = bytearray(data)
        self.pos = 4

    @property
    def off(self):
        return self.pos - 4

    def i8(self):
        self.pos += 1
        return self.data[self.pos - 1]

    def i16(self):
        self.pos += 2
        return struct.unpack('>h', self.data[self.pos - 2:self.pos])[0]

    def i32(self):
        self.pos += 4
        return struct.unpack('>i', self.data[self.pos - 4:self.pos])[0]

    def uvarint(self):
        shift = value = 0
        while True:
            b = self.i8()
            value |= (b & 0x7f) << shift
            shift += 7
            if not b & 0x80:
                return value

    def string(self):
        n = self.i16()
        if n > 0:
            self.pos += n

    def compact_string(self):
        n = self.uvarint()
        if n > 1:
            self.pos += n - 1

    def tagged(self):
        for _ in range(self.uvarint()):
            self.uvarint()
            self.pos += self.uvarint()

    def request_header(self, flexible):
        self.pos += 2 + 2 + 4  # api_key, api_version, correlation_id
        self.string()          # client_id: int16 string in every header version
        if flexible:
            self.tagged()


def find_file(vectors, set_name, pattern, want=None):
    """(name, bytes) of the first file of a set matching pattern (and want(bytes))."""
    d = os.path.join(vectors, set_name)
    for f in sorted(os.listdir(d)):
        if re.search(pattern, f):
            with open(os.path.join(d, f), 'rb') as fh:
                data = fh.read()
            if want is None or want(data):
                return '%s/%s' % (set_name, f), data
    raise LookupError('no %s frame in %s' % (pattern, set_name))


def be16(data, off):
    """The int16 at off (after the prefix) of a frame with its prefix."""
    return struct.unpack('>h', bytes(data[off + 4:off + 6]))[0]


def be32(data, off):
    return struct.unpack('>i', bytes(data[off + 4:off + 8]))[0]


def corrupt(data, off, value):
    """A copy of a frame with the byte at off (after the prefix) set to value."""
    out = bytearray(data)
    if out[off + 4] == value:
        raise ValueError('byte %d is already %#x' % (off, value))
    out[off + 4] = value
    return out


def produce_cases(vectors):
    # Produce v7 request (kcat): header v1, transactional_id, acks, timeout_ms,
    # topic_data count, then topic_data[0].name and topic_data[0].partition_data.
    src, data = find_file(vectors, 'kcat', r'_req_k00-Produce_v7_')
    fr = Frame(data)
    fr.request_header(False)
    fr.string()                 # transactional_id (null)
    fr.i16()                    # acks
    fr.i32()                    # timeout_ms
    fr.i32()                    # topic_data count
    name_at = fr.off
    fr.string()                 # topic_data[0].name
    parts_at = fr.off           # topic_data[0].partition_data count
    return [
        # A name length of 0x7fxx runs past the end: TRUNCATED, reported where the
        # name's bytes would start (kwire reports a short read at the first byte it
        # cannot have, i.e. just after the int16 length).
        ('Produce v7 .topic_data[0].name length past the end', src,
         corrupt(data, name_at, 0x7f), [], 'ProduceRequest v7', '.topic_data[0].name',
         'TRUNCATED', name_at + 2, (be16(corrupt(data, name_at, 0x7f), name_at), name_at + 2)),
        # A negative name length (0x80xx): NEGATIVE_LENGTH at the length itself.
        ('Produce v7 .topic_data[0].name negative length', src,
         corrupt(data, name_at, 0x80), [], 'ProduceRequest v7', '.topic_data[0].name',
         'NEGATIVE_LENGTH', name_at),
        # A partition_data count of 0x7fxxxxxx: COUNT_TOO_LARGE at the count.
        # The expected bytes: count x 8, the least a PartitionProduceData v7 takes
        # (index int32, records int32 length).
        ('Produce v7 .topic_data[0].partition_data count', src,
         corrupt(data, parts_at, 0x7f), [], 'ProduceRequest v7',
         '.topic_data[0].partition_data', 'COUNT_TOO_LARGE', parts_at,
         (be32(corrupt(data, parts_at, 0x7f), parts_at) * 8, parts_at + 4)),
    ]


def metadata_offsets(data):
    """(brokers[0].host, topics[0].name, topics[0].partitions) offsets of a v2 response."""
    # correlation_id, brokers [node_id, host, port, rack], cluster_id, controller_id,
    # topics [error_code, name, is_internal, partitions [...]].
    fr = Frame(data)
    fr.i32()                    # correlation_id (response header v0)
    host_at = None
    for _ in range(fr.i32()):
        fr.i32()                # node_id
        if host_at is None:
            host_at = fr.off
        fr.string()             # host
        fr.i32()                # port
        fr.string()             # rack
    fr.string()                 # cluster_id
    fr.i32()                    # controller_id
    if host_at is None or fr.i32() < 1:
        return None
    fr.i16()                    # topics[0].error_code
    name_at = fr.off
    fr.string()                 # topics[0].name
    fr.i8()                     # topics[0].is_internal
    return host_at, name_at, fr.off


def metadata_cases(vectors):
    # Metadata v2 response (kcat), the first one with a broker and a topic.
    src, data = find_file(vectors, 'kcat', r'_rsp_k03-Metadata_v2_',
                          lambda d: metadata_offsets(d) is not None)
    host_at, name_at, parts_at = metadata_offsets(data)
    opts = ['--response', '3', '2']
    return [
        # A MetadataResponsePartition v2 takes at least 18 bytes: error_code, partition_index,
        # leader_id, and the counts of replica_nodes and isr_nodes.
        ('Metadata v2 response .topics[0].partitions count', src,
         corrupt(data, parts_at, 0x7f), opts, 'MetadataResponse v2', '.topics[0].partitions',
         'COUNT_TOO_LARGE', parts_at, (be32(corrupt(data, parts_at, 0x7f), parts_at) * 18,
                                       parts_at + 4)),
        # topics[0].name = -1 (0xffff): null in a non-nullable string.
        ('Metadata v2 response .topics[0].name null', src,
         corrupt(corrupt(data, name_at, 0xff), name_at + 1, 0xff), opts, 'MetadataResponse v2',
         '.topics[0].name', 'UNEXPECTED_NULL', name_at),
        ('Metadata v2 response .brokers[0].host length past the end', src,
         corrupt(data, host_at, 0x7f), opts, 'MetadataResponse v2', '.brokers[0].host',
         'TRUNCATED', host_at + 2, (be16(corrupt(data, host_at, 0x7f), host_at), host_at + 2)),
    ]


def check_api_versions_versions(dump, res):
    """ApiVersions responses are read at the version asked; a v0 body (KIP-511's answer to a
    version the broker does not know) only when that fails, and then said."""
    with tempfile.TemporaryDirectory() as tmp:
        v3 = struct.pack('>h', 35) + bytes([2]) + struct.pack('>hhh', 18, 0, 4) + b'\x00' + \
            struct.pack('>i', 0) + b'\x00'
        v0 = struct.pack('>h', 35) + struct.pack('>i', 1) + struct.pack('>hhh', 18, 0, 4)
        for name, body, want_body_version in (('v3 body, error 35', v3, None),
                                              ('v0 body, error 35', v0, 0)):
            path = os.path.join(tmp, 'frame.bin')
            with open(path, 'wb') as fh:
                fh.write(struct.pack('>ii', 4 + len(body), 7) + body)
            rc, out, err = run([dump, '--response', '18', '3', path])
            try:
                doc = json.loads(out)
            except ValueError:
                doc = {}
            ok = (rc == 0 and doc.get('api_version') == 3 and
                  doc.get('body_version') == want_body_version and
                  doc.get('body', {}).get('error_code') == 35 and
                  len(doc.get('body', {}).get('api_keys', [])) == 1)
            if ok:
                res.passed += 1
            else:
                res.failed += 1
                res.fail('ApiVersions v3 response, %s' % name, 'version read', out.strip() or
                         err.strip(), 'v0' if want_body_version == 0 else 'v3', 'expected')


def api_versions_cases(vectors):
    # ApiVersions v3 request (flexible; kcat-flexible): header v2, then
    # client_software_name and client_software_version as compact strings.
    src, data = find_file(vectors, 'kcat-flexible', r'_req_k18-ApiVersions_v3_')
    fr = Frame(data)
    fr.request_header(True)
    name_at = fr.off
    fr.compact_string()
    version_at = fr.off
    return [
        # Compact length 0x7f: 126 bytes, more than are left; one-byte varint.
        ('ApiVersions v3 .client_software_name compact length past the end', src,
         corrupt(data, name_at, 0x7f), [], 'ApiVersionsRequest v3', '.client_software_name',
         'TRUNCATED', name_at + 1, (126, name_at + 1)),
        # Compact length 0: null, which this field does not allow.
        ('ApiVersions v3 .client_software_version null', src,
         corrupt(data, version_at, 0x00), [], 'ApiVersionsRequest v3',
         '.client_software_version', 'UNEXPECTED_NULL', version_at),
    ]


def offset_fetch_cases(vectors):
    # OffsetFetch v7 request (flexible; kcat-flexible): group_id, topics compact array of
    # [name, partition_indexes compact array of int32, tags], require_stable, tags.
    src, data = find_file(vectors, 'kcat-flexible', r'_req_k09-OffsetFetch_v7_')
    fr = Frame(data)
    fr.request_header(True)
    fr.compact_string()         # group_id
    if fr.uvarint() < 2:        # topics count + 1
        raise ValueError('no topic')
    fr.compact_string()         # topics[0].name
    at = fr.off
    return [
        # Compact count 0x7f: 125 int32s, more than the bytes left could hold.
        ('OffsetFetch v7 .topics[0].partition_indexes compact count', src,
         corrupt(data, at, 0x7f), [], 'OffsetFetchRequest v7', '.topics[0].partition_indexes',
         'COUNT_TOO_LARGE', at, (126 * 4, at + 1)),
    ]


CORRUPTION_BUILDERS = [produce_cases, metadata_cases, api_versions_cases, offset_fetch_cases]


def marked_byte(err):
    """(offset, value) of the "[xx]" byte in kwire-dump's hex window, or None."""
    for line in err.splitlines():
        m = re.match(r'  ([0-9a-f]{8}) (.*)$', line)
        if not m or '[' not in m.group(2) or 'end of frame' in line:
            continue
        cells = m.group(2)
        i = cells.index('[')
        if i % 4:
            return None
        return int(m.group(1), 16) + i // 4, int(cells[i + 1:i + 3], 16)
    return None


def expected_remaining(err):
    """(expected, from byte, remaining) of kwire-dump's detail line; expected None when
    the line only gives the remaining bytes."""
    m = re.search(r'^  expected: (\d+) bytes from byte (\d+) \(.*\); remaining: (\d+) bytes$',
                  err, re.M)
    if m:
        return int(m.group(1)), int(m.group(2)), int(m.group(3))
    m = re.search(r'^  remaining: (\d+) bytes from byte (\d+) to the end of the frame', err, re.M)
    if m:
        return None, int(m.group(2)), int(m.group(1))
    return None


def expected_line(need, offset, size):
    """What expected_remaining must give for a case: need is (expected, from) or None."""
    if need:
        return need[0], need[1], size - need[1]
    return None, offset, size - offset


def check_corruption(dump, vectors, res):
    count = 0
    with tempfile.TemporaryDirectory(prefix='kwire-dump-') as tmp:
        for build in CORRUPTION_BUILDERS:
            try:
                cases = build(vectors)
            except (LookupError, ValueError, IndexError, struct.error) as e:
                print('FAIL corruption %s: cannot build the cases: %s' % (build.__name__, e))
                res.failed += 1
                continue
            for case in cases:
                name, src, data, opts, message, path, code, offset = case[:8]
                need = case[8] if len(case) > 8 else None
                count += 1
                where = 'corruption %s (%s)' % (name, src)
                # The untouched frame must decode, so the error is the changed byte's.
                rc0, _, err0 = run([dump] + opts + [os.path.join(vectors, src)])
                if rc0 != 0:
                    res.fail(where, 'original frame', err0.strip()[:300], 'decodes', 'expected')
                    res.failed += 1
                    continue
                fpath = os.path.join(tmp, 'case%d.bin' % count)
                with open(fpath, 'wb') as f:
                    f.write(bytes(data))
                rc, _, err = run([dump] + opts + [fpath])
                ok = True
                if rc != 1:
                    res.fail(where, 'exit status', rc, 1, 'expected')
                    ok = False
                want = '%s %s: %s (' % (message, path, code)
                m = re.search(r': (\S+ v\d+ \S+: [A-Z_]+) \(.*\) at byte (\d+) of the frame', err)
                if not m or want not in err:
                    res.fail(where, 'error', m.group(1) if m else err.strip()[:300],
                             want[:-2], 'expected')
                    ok = False
                if not m or int(m.group(2)) != offset:
                    res.fail(where, 'offset', int(m.group(2)) if m else None, offset, 'expected')
                    ok = False
                mark = marked_byte(err)
                body = bytes(data[4:])
                want_mark = (offset, body[offset]) if offset < len(body) else None
                if mark != want_mark:
                    res.fail(where, 'hex window mark', mark, want_mark, 'expected')
                    ok = False
                got_need = expected_remaining(err)
                want_need = expected_line(need, offset, len(body))
                if got_need != want_need:
                    res.fail(where, 'expected/remaining', got_need, want_need, 'expected')
                    ok = False
                if ok:
                    res.passed += 1
                else:
                    res.failed += 1
    print('corruption: %d cases' % count)


def check_roundtrip_difference(dump, res):
    """A body that decodes but is not in canonical form: --roundtrip names the field."""
    import struct
    import tempfile
    # ApiVersions v3, header v2 (client_id "x"); client_software_name "ab" with its
    # compact length 3 written in two bytes (0x83 0x00), which kwire writes in one.
    frame = struct.pack('>hhih', 18, 3, 9, 1) + b'x' + b'\x00' + b'\x83\x00ab' + b'\x021' + b'\x00'
    with tempfile.NamedTemporaryFile(suffix='.bin', delete=False) as f:
        f.write(struct.pack('>i', len(frame)) + frame)
        path = f.name
    try:
        rc, out, err = run([dump, '--roundtrip', path])
    finally:
        os.unlink(path)
    want = 'first difference in .client_software_name at byte 12 of the frame'
    if rc == 1 and want in err and '[83]' in err and '"roundtrip":"differs"' in out:
        res.passed += 1
    else:
        res.fail('roundtrip', 'difference report', (rc, err.strip()[:200]), want, 'expected')
        res.failed += 1


def check_api_versions_error(dump, res):
    """ApiVersions error answers are read as Kafka's clients read them (KIP-511): at the
    version asked (a v3 body with error 35 prints as v3), and only when that fails as v0
    (a v0 body answering v3 also decodes, and says body_version 0)."""
    import struct
    import tempfile
    # response header v0 (correlation id) for every ApiVersions version
    v3 = (struct.pack('>ih', 7, 35) + b'\x02' + struct.pack('>hhh', 18, 0, 3) + b'\x00' +
          struct.pack('>i', 0) + b'\x00')
    v0 = struct.pack('>ihi', 8, 35, 1) + struct.pack('>hhh', 18, 0, 2)
    for name, frame, want_version in (('v3 body', v3, None), ('v0 body', v0, 0)):
        with tempfile.NamedTemporaryFile(suffix='.bin', delete=False) as f:
            f.write(struct.pack('>i', len(frame)) + frame)
            path = f.name
        try:
            rc, out, err = run([dump, '--roundtrip', '--response', '18', '3', path])
        finally:
            os.unlink(path)
        where = 'ApiVersions v3 answered with a %s' % name
        try:
            obj = json.loads(out)
        except ValueError:
            obj = {}
        body = obj.get('body', {})
        got = (rc, obj.get('api_version'), obj.get('body_version'), body.get('error_code'),
               [k.get('api_key') for k in body.get('api_keys', [])], obj.get('roundtrip'))
        want = (0, 3, want_version, 35, [18], 'identical')
        if got == want:
            res.passed += 1
        else:
            res.fail(where, '(rc, api_version, body_version, error_code, api_keys, roundtrip)',
                     (got, err.strip()[:200]), want, 'expected')
            res.failed += 1


def main(argv):
    if len(argv) != 3:
        print(__doc__.splitlines()[2], file=sys.stderr)
        return 2
    dump, vectors = argv[1], argv[2]
    res = Result()
    sets = sorted(d for d in os.listdir(vectors)
                  if os.path.exists(os.path.join(vectors, d, 'index.tsv')))
    if not sets:
        print('no sets under %s' % vectors)
        return 1
    for s in sets:
        check_set(dump, os.path.join(vectors, s), res)
    check_corruption(dump, vectors, res)
    check_roundtrip_difference(dump, res)
    check_api_versions_error(dump, res)
    print('dump: %d passed, %d failed' % (res.passed, res.failed))
    return 1 if res.failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
