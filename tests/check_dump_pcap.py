#!/usr/bin/env python3
"""Run kwire-dump on whole captures and compare it with Wireshark's view, frame by frame.

usage: check_dump_pcap.py KWIRE_DUMP VECTORS_DIR

VECTORS_DIR is tests/vectors; the sets with a session.pcap (kcat, confluent, kafka-python,
kafkajs) are used. Standard library only; helpers are shared with check_dump.py.

1. tshark: kwire-dump --port P session.pcap (P: the broker port, from index.tsv). Every
   Kafka PDU tshark reports (tshark.tsv covers the whole capture) must be one JSON line of
   kwire-dump, joined on (packet, direction, order within the packet), and there must be
   no other line. For each: api_key, api_version, correlation_id, length, client_id and,
   where the body decoded, topic names, partition ids, v2 batches, record counts, error
   codes and group names, as check_dump.py compares them. The only frames allowed not to
   decode are the mock broker's ApiVersions v3 error answers (tests/vectors/README.md):
   their line must carry an error naming .api_keys, and stderr must report each. Frames
   kept in index.tsv must also agree on the connection number, client and server.

2. Corruption inside a capture: one byte of a frame inside session.pcap is changed (the
   cases of check_dump.py, found in the capture by their bytes). kwire-dump must name the
   message, field path, code and offset, the expected and remaining bytes, mark the byte
   in the hex window, put the error in that frame's JSON line, and print every other
   frame as before.

3. Formats: the kcat capture as Wireshark's editcap writes it in pcapng
   (examples/dump/samples/kcat-session.pcapng), and rewritten here as big-endian pcap,
   nanosecond pcap, pcapng (two sections of either byte order, interfaces of different
   link types and timestamp resolutions, enhanced and simple packet blocks, blocks to
   skip), link types Ethernet with a VLAN tag, raw IPv4/IPv6 (101, 228, 229), Linux
   cooked v1/v2 (113, 276), BSD loopback (0), and IPv6 addresses. Each must give the same
   frames as the original.

4. TCP: the kcat capture with every segment cut into small segments, then reordered,
   duplicated and overlapped: the same frames. With segments dropped inside a frame, across
   a frame boundary, cut by the snapshot length, or before the capture starts: the frames
   touched are skipped with a note, every other frame comes out as before.

5. Hostile captures: truncated at many lengths and with bytes overwritten (headers,
   lengths, random places): kwire-dump exits 0 or 1, without a crash or a sanitizer
   report.

6. Options on a capture: --api, --topic, --correlation-id, --summary, --pretty; and
   raw input given in hex and on standard input.

7. Topic ids: --topic finds Fetch v13 requests, which name topics by id only, through the
   ids a Metadata v12 response tied to names (frames built here).

Exit status: 0 when everything passed. The last line is "dump-pcap: N passed, M failed".
"""

import collections
import json
import os
import random
import re
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_dump as cd  # noqa: E402

SETS = ['kcat', 'confluent', 'kafka-python', 'kafkajs']
SANITIZER_RE = re.compile(r'AddressSanitizer|LeakSanitizer|runtime error:|UndefinedBehaviorSanitizer')


class Result:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, ok, where, what, got=None, want=None):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            print('FAIL %s: %s: got %r, want %r' % (where, what, got, want))
        return ok


def run(args, stdin=None):
    p = subprocess.run(args, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return p.returncode, p.stdout.decode('utf-8', 'replace'), p.stderr.decode('utf-8', 'replace')


def parse_lines(out):
    objs = []
    for line in out.splitlines():
        objs.append(json.loads(line))
    return objs


def broker_port(set_dir):
    rows = cd.read_tsv(os.path.join(set_dir, 'index.tsv'))
    return rows[0]['server'].rsplit(':', 1)[1]


def core(obj):
    """What must not change when the same traffic is captured another way."""
    return {k: v for k, v in obj.items()
            if k not in ('source', 'packet', 'time', 'latency_us', 'client', 'server')}


# ---------------------------------------------------------------------------
# Captures in Python: read the committed classic pcap (Ethernet, IPv4, TCP), write others.


class Packet:
    def __init__(self, sec, usec, data, orig=None):
        self.sec, self.usec, self.data = sec, usec, data
        self.orig = len(data) if orig is None else orig


def read_pcap(path):
    with open(path, 'rb') as f:
        raw = f.read()
    magic, = struct.unpack('<I', raw[:4])
    assert magic == 0xa1b2c3d4, 'expected a little-endian microsecond pcap'
    linktype, = struct.unpack('<I', raw[20:24])
    assert linktype == 1, 'expected Ethernet'
    pkts, off = [], 24
    while off < len(raw):
        sec, usec, incl, orig = struct.unpack('<IIII', raw[off:off + 16])
        pkts.append(Packet(sec, usec, raw[off + 16:off + 16 + incl], orig))
        off += 16 + incl
    return pkts


def write_pcap(pkts, linktype=1, endian='<', nano=False):
    magic = 0xa1b23c4d if nano else 0xa1b2c3d4
    out = [struct.pack(endian + 'IHHiIII', magic, 2, 4, 0, 0, 262144, linktype)]
    for p in pkts:
        frac = p.usec * 1000 if nano else p.usec
        out.append(struct.pack(endian + 'IIII', p.sec, frac, len(p.data), p.orig) + p.data)
    return b''.join(out)


def pad4(b):
    return b + b'\0' * (-len(b) % 4)


def ng_block(endian, btype, body):
    body = pad4(body)
    n = 12 + len(body)
    return struct.pack(endian + 'II', btype, n) + body + struct.pack(endian + 'I', n)


def ng_section(endian, ifaces, pkts, simple=False, extras=True):
    """ifaces: [(linktype, tsresol byte)], pkts: [(iface, Packet)]."""
    out = [ng_block(endian, 0x0a0d0d0a, struct.pack(endian + 'IHHq', 0x1a2b3c4d, 1, 0, -1))]
    for linktype, resol in ifaces:
        opts = struct.pack(endian + 'HH', 9, 1) + bytes([resol]) + b'\0\0\0'
        opts += struct.pack(endian + 'HH', 2, 3) + b'lo\0\0'       # if_name
        opts += struct.pack(endian + 'HH', 0, 0)
        out.append(ng_block(endian, 1, struct.pack(endian + 'HHI', linktype, 0, 0) + opts))
    if extras:
        out.append(ng_block(endian, 4, struct.pack(endian + 'HH', 0, 0)))   # name resolution
        out.append(ng_block(endian, 0x0bad, b'custom block to be skipped'))
    for iface, p in pkts:
        if simple:
            out.append(ng_block(endian, 3, struct.pack(endian + 'I', p.orig) + p.data))
            continue
        resol = ifaces[iface][1] if iface < len(ifaces) else 6
        units = 10 ** resol if resol < 0x80 else 2 ** (resol & 0x7f)
        ts = p.sec * units + p.usec * units // 1000000
        body = struct.pack(endian + 'IIIII', iface, ts >> 32, ts & 0xffffffff, len(p.data),
                           p.orig) + pad4(p.data)
        body += struct.pack(endian + 'HH', 1, 4) + b'note' + struct.pack(endian + 'HH', 0, 0)
        out.append(ng_block(endian, 6, body))
    if extras:
        out.append(ng_block(endian, 5, struct.pack(endian + 'III', 0, 0, 0)))  # statistics
    return b''.join(out)


def split_eth(data):
    """(ethernet header, IPv4 header, TCP header, payload) of an Ethernet IPv4 TCP packet."""
    eth, ip = data[:14], data[14:]
    ihl = (ip[0] & 15) * 4
    total, = struct.unpack('>H', ip[2:4])
    tcp = ip[ihl:total]
    doff = (tcp[12] >> 4) * 4
    return eth, ip[:ihl], tcp[:doff], tcp[doff:]


def ipv4(iph, tcph, payload):
    iph = bytearray(iph)
    iph[2:4] = struct.pack('>H', len(iph) + len(tcph) + len(payload))
    return bytes(iph) + tcph + payload


def ipv6(iph, tcph, payload):
    src, dst = b'\xfd' + b'\0' * 11 + iph[12:16], b'\xfd' + b'\0' * 11 + iph[16:20]
    return struct.pack('>IHBB', 6 << 28, len(tcph) + len(payload), 6, 64) + src + dst + tcph + \
        payload


def tcp_with(tcph, seq=None, flags=None):
    t = bytearray(tcph)
    if seq is not None:
        t[4:8] = struct.pack('>I', seq & 0xffffffff)
    if flags is not None:
        t[13] = flags
    return bytes(t)


def relink(pkts, how):
    """The same packets under another link layer (and IP version)."""
    out = []
    for p in pkts:
        eth, iph, tcph, payload = split_eth(p.data)
        v6 = how in ('raw6', 'eth6', 'null6')
        ip = ipv6(iph, tcph, payload) if v6 else ipv4(iph, tcph, payload)
        et = b'\x86\xdd' if v6 else b'\x08\x00'
        if how in ('raw', 'raw4', 'raw6'):
            data = ip
        elif how == 'eth6':
            data = eth[:12] + et + ip
        elif how == 'vlan':
            data = eth[:12] + b'\x81\x00\x00\x05' + et + ip
        elif how == 'sll':
            data = struct.pack('>HHH8s', 0, 772, 0, b'') + et + ip
        elif how == 'sll2':
            data = et + struct.pack('>HIHBB8s', 0, 1, 772, 0, 0, b'') + ip
        elif how in ('null', 'null6'):
            data = struct.pack('<I', 30 if v6 else 2) + ip
        else:
            raise ValueError(how)
        out.append(Packet(p.sec, p.usec, data))
    return out


def resegment(pkts, rng, size_range=(1, 64), shuffle=True, dup=0.0, overlap=0.0):
    """Every TCP payload cut into segments; within each packet's segments, order shuffled,
    some sent twice, some merged copies overlapping their neighbours. Returns the new
    packets and, per new packet, (original packet index, payload start, payload end)."""
    out, where = [], []
    for i, p in enumerate(pkts):
        eth, iph, tcph, payload = split_eth(p.data)
        if not payload:
            out.append(p)
            where.append((i, 0, 0))
            continue
        seq, = struct.unpack('>I', tcph[4:8])
        flags = tcph[13]
        cuts, at = [], 0
        while at < len(payload):
            n = rng.randint(*size_range)
            cuts.append((at, min(len(payload), at + n)))
            at += n
        segs = list(cuts)
        for a, b in cuts:
            if rng.random() < dup:
                segs.append((a, b))
        for k in range(len(cuts) - 1):
            if rng.random() < overlap:
                segs.append((cuts[k][0], cuts[k + 1][1]))
        if shuffle:
            rng.shuffle(segs)
        last_end = len(payload)
        for a, b in segs:
            f = flags if b == last_end else flags & ~0x01  # FIN only on the last bytes
            data = eth + ipv4(iph, tcp_with(tcph, seq + a, f), payload[a:b])
            out.append(Packet(p.sec, p.usec, data))
            where.append((i, a, b))
    return out, where


# ---------------------------------------------------------------------------
# 1: kwire-dump on each session.pcap against tshark.tsv


def join_by_packet(objs, trows):
    """[(obj, trow)] joined on (packet, dir, order), and what was left on either side."""
    mine = collections.defaultdict(list)
    for o in objs:
        mine[(str(o['packet']), 'req' if o['direction'] == 'request' else 'rsp')].append(o)
    theirs = collections.defaultdict(list)
    for t in trows:
        theirs[(t['pcap_frame'], t['dir'])].append(t)
    pairs, extra_mine, extra_theirs = [], [], []
    for key in sorted(set(mine) | set(theirs), key=lambda k: (int(k[0]), k[1])):
        a, b = mine.get(key, []), theirs.get(key, [])
        pairs.extend(zip(a, b))
        extra_mine.extend(a[len(b):])
        extra_theirs.extend(b[len(a):])
    return pairs, extra_mine, extra_theirs


def check_session(dump, vectors, name, res):
    set_dir = os.path.join(vectors, name)
    port = broker_port(set_dir)
    pcap = os.path.join(set_dir, 'session.pcap')
    trows = cd.read_tsv(os.path.join(set_dir, 'tshark.tsv'))
    rows = cd.read_tsv(os.path.join(set_dir, 'index.tsv'))
    rc, out, err = run([dump, '--port', port, pcap])
    where = '%s/session.pcap' % name
    try:
        objs = parse_lines(out)
    except ValueError as e:
        res.check(False, where, 'JSON lines', str(e), 'valid JSON')
        return None
    pairs, extra_mine, extra_theirs = join_by_packet(objs, trows)
    res.check(not extra_mine, where, 'frames tshark does not show',
              [(o['packet'], o['direction'], o['correlation_id']) for o in extra_mine], [])
    res.check(not extra_theirs, where, 'frames kwire-dump does not show',
              [(t['pcap_frame'], t['dir'], t['correlation_id']) for t in extra_theirs], [])
    counts = collections.Counter()
    sub = cd.Result()
    malformed = 0
    for obj, trow in pairs:
        fwhere = '%s packet %s %s corr %s' % (where, trow['pcap_frame'], trow['dir'],
                                              trow['correlation_id'])
        row = {'direction': trow['dir'], 'api_key': trow['api_key'],
               'api_version': trow['api_version']}
        if 'error' in obj:
            malformed += 1
            ok = (trow['dir'] == 'rsp' and trow['api_key'] == '18' and trow['api_version'] == '3'
                  and obj['error'].get('path') == '.api_keys' and obj['api_key'] == 18 and
                  obj['size'] == int(trow['length']) and
                  obj['correlation_id'] == int(trow['correlation_id']))
            res.check(ok, fwhere, 'a frame that does not decode', obj.get('error'),
                      'only the mock ApiVersions v3 error answer')
            continue
        before = sub.failed
        ok = cd.compare_frame(fwhere, row, obj, trow, sub, counts)
        res.check(ok and sub.failed == before, fwhere, 'agrees with tshark')
    # stderr names each frame that did not decode
    reported = len(re.findall(r'ApiVersionsResponse v0 \.api_keys: COUNT_TOO_LARGE', err))
    res.check(reported == malformed, where, 'errors on stderr', reported, malformed)
    res.check(rc == (1 if malformed else 0), where, 'exit status', rc, 1 if malformed else 0)
    # the frames index.tsv kept: the same connection, client and server
    by_key = {(str(o['packet']), 'req' if o['direction'] == 'request' else 'rsp',
               o['correlation_id']): o for o in objs}
    bad = []
    for r in rows:
        o = by_key.get((r['pcap_frame'], r['direction'], int(r['correlation_id'])))
        if not o or o['conn'] != int(r['conn']) or o['client'] != r['client'] or \
                o['server'] != r['server'] or o['size'] != int(r['size']) - 4:
            bad.append(r['file'])
    res.check(not bad, where, 'connections of the frames in index.tsv', bad[:5], [])
    print('%s: %d frames, %d compared with tshark, %d not decodable (mock ApiVersions v3); '
          'fields: %s' % (where, len(objs), len(pairs) - malformed, malformed,
                          ', '.join('%s %d (%d non-empty)' % (k, counts[k],
                                                              counts[k + ' non-empty'])
                                    for k in ('topics', 'partitions', 'batches', 'records',
                                              'errors', 'group'))))
    return objs


# ---------------------------------------------------------------------------
# 2: corruption inside a capture


def error_block(err, at):
    """The report that starts on the line holding position at: that line and the indented
    lines after it."""
    start = err.rfind('\n', 0, at) + 1
    lines = err[start:].split('\n')
    block = [lines[0]]
    for line in lines[1:]:
        if not line.startswith('  '):
            break
        block.append(line)
    return '\n'.join(block)


def check_capture_corruption(dump, vectors, tmp, res):
    count = 0
    for build in (cd.produce_cases, cd.metadata_cases):
        for case in build(vectors):
            name, src, data, opts, message, path, code, offset = case[:8]
            need = case[8] if len(case) > 8 else None
            set_name = src.split('/')[0]
            set_dir = os.path.join(vectors, set_name)
            with open(os.path.join(vectors, src), 'rb') as f:
                original = f.read()
            with open(os.path.join(set_dir, 'session.pcap'), 'rb') as f:
                capture = f.read()
            where = 'capture corruption %s' % name
            at = capture.find(original)
            # (the first of its copies: the mock answers each connection alike)
            if not res.check(at >= 0, where, 'the frame lies whole in one packet of '
                             'session.pcap'):
                continue
            count += 1
            changed = capture[:at] + bytes(data) + capture[at + len(original):]
            fpath = os.path.join(tmp, 'corrupt%d.pcap' % count)
            with open(fpath, 'wb') as f:
                f.write(changed)
            port = broker_port(set_dir)
            _, out0, _ = run([dump, '--port', port, os.path.join(set_dir, 'session.pcap')])
            rc, out, err = run([dump, '--port', port, fpath])
            before, after = parse_lines(out0), parse_lines(out)
            hit = [i for i, (a, b) in enumerate(zip(before, after)) if core(a) != core(b)]
            ok = len(before) == len(after) and len(hit) == 1
            res.check(ok, where, 'only one frame changes', hit, 'one')
            if not ok:
                continue
            line = after[hit[0]]
            e = line.get('error', {})
            res.check(e.get('code') == code and e.get('path') == path and
                      e.get('offset') == offset, where, 'error in the JSON line',
                      e, (code, path, offset))
            want_head = '%s %s: %s (' % (message, path, code)
            m = re.search(r'conn %d .*frame %d \(packet %d, stream offset %d\): (\S+ v\d+ \S+: '
                          r'[A-Z_]+) \(.*\) at byte (\d+) of the frame' %
                          (line['conn'], line['frame'], line['packet'], line['offset']), err)
            res.check(m and want_head in err and int(m.group(2)) == offset, where,
                      'stderr names the frame, the field and the offset',
                      err.strip()[:300], want_head + '... at byte %d' % offset)
            if not m:
                continue
            err = error_block(err, m.start())
            body = bytes(data[4:])
            res.check(cd.marked_byte(err) == (offset, body[offset]), where, 'hex window mark',
                      cd.marked_byte(err), (offset, body[offset]))
            res.check(cd.expected_remaining(err) == cd.expected_line(need, offset, len(body)),
                      where, 'expected/remaining', cd.expected_remaining(err),
                      cd.expected_line(need, offset, len(body)))
            res.check(rc == 1, where, 'exit status', rc, 1)
    print('capture corruption: %d cases' % count)


# ---------------------------------------------------------------------------
# 3, 4: the same traffic in other forms


def dump_file(dump, path, port, extra=()):
    rc, out, err = run([dump, '--port', port] + list(extra) + [path])
    return rc, parse_lines(out), err


def compare_frames(where, base, objs, res, key=lambda o: o['frame']):
    """Both lists must hold the same frames (core fields), matched by key."""
    a = {key(o): core(o) for o in base}
    b = {key(o): core(o) for o in objs}
    missing = sorted(set(a) - set(b), key=str)
    extra = sorted(set(b) - set(a), key=str)
    differ = sorted((k for k in set(a) & set(b) if a[k] != b[k]), key=str)
    return res.check(not missing and not extra and not differ, where, 'the same frames',
                     {'missing': missing[:5], 'extra': extra[:5], 'differ': differ[:5]}, 'none')


def stream_key(o):
    """A frame by where it lies: the client endpoint, direction and stream offset."""
    return (o['client'], o['direction'], o['offset'])


def check_formats(dump, vectors, tmp, base, res):
    set_dir = os.path.join(vectors, 'kcat')
    port = broker_port(set_dir)
    pkts = read_pcap(os.path.join(set_dir, 'session.pcap'))
    half = len(pkts) // 2
    variants = [
        ('pcap big-endian', write_pcap(pkts, endian='>')),
        ('pcap nanoseconds', write_pcap(pkts, nano=True)),
        ('pcap big-endian nanoseconds', write_pcap(pkts, endian='>', nano=True)),
        ('pcap Ethernet VLAN', write_pcap(relink(pkts, 'vlan'), 1)),
        ('pcap raw IP (101)', write_pcap(relink(pkts, 'raw'), 101)),
        ('pcap raw IPv4 (228)', write_pcap(relink(pkts, 'raw4'), 228)),
        ('pcap raw IPv6 (229)', write_pcap(relink(pkts, 'raw6'), 229)),
        ('pcap Ethernet IPv6', write_pcap(relink(pkts, 'eth6'), 1)),
        ('pcap Linux cooked (113)', write_pcap(relink(pkts, 'sll'), 113)),
        ('pcap Linux cooked v2 (276)', write_pcap(relink(pkts, 'sll2'), 276)),
        ('pcap BSD loopback (0)', write_pcap(relink(pkts, 'null'), 0)),
        ('pcap BSD loopback IPv6 (0)', write_pcap(relink(pkts, 'null6'), 0)),
        ('pcapng little-endian', ng_section('<', [(1, 6)], [(0, p) for p in pkts])),
        ('pcapng big-endian nanoseconds', ng_section('>', [(1, 9)], [(0, p) for p in pkts])),
        # interfaces of different link types and resolutions, packets spread over them
        ('pcapng three interfaces', ng_section(
            '<', [(1, 6), (276, 9), (113, 0x80 | 20)],
            [(i % 3, q) for i, q in enumerate(
                [pkts[i] if i % 3 == 0 else (relink([pkts[i]], 'sll2') if i % 3 == 1
                                             else relink([pkts[i]], 'sll'))[0]
                 for i in range(len(pkts))])])),
        # two sections, the second of the other byte order with its own interfaces
        ('pcapng two sections', ng_section('<', [(1, 6)], [(0, p) for p in pkts[:half]]) +
         ng_section('>', [(229, 9), (1, 6)], [(1, p) for p in pkts[half:]])),
        ('pcapng simple packet blocks', ng_section('<', [(228, 6)],
                                                   [(0, p) for p in relink(pkts, 'raw4')],
                                                   simple=True)),
    ]
    # pcapng as Wireshark writes it (editcap -F pcapng of the same session)
    sample = os.path.join(vectors, '..', '..', 'examples', 'dump', 'samples',
                          'kcat-session.pcapng')
    if res.check(os.path.exists(sample), 'format editcap pcapng', 'sample present'):
        with open(sample, 'rb') as f:
            variants.append(('pcapng written by editcap', f.read()))
    for name, blob in variants:
        path = os.path.join(tmp, 'variant.cap')
        with open(path, 'wb') as f:
            f.write(blob)
        rc, objs, err = dump_file(dump, path, port)
        ok = compare_frames('format %s' % name, base, objs, res)
        res.check(rc == 1 and ok, 'format %s' % name, 'exit status', rc, 1)
        if 'IPv6' in name and objs:
            res.check(re.fullmatch(r'\[fd00::7f00:1\]:\d+', objs[0]['client']) is not None,
                      'format %s' % name, 'IPv6 endpoint', objs[0]['client'], '[fd00::7f00:1]:P')
        if 'simple' not in name and objs:
            res.check(objs[0]['time'] == base[0]['time'], 'format %s' % name, 'time',
                      objs[0]['time'], base[0]['time'])
    print('formats: %d variants' % len(variants))


def frame_key(o):
    """A frame by what it is: client endpoint, direction and correlation id (kcat's ids are
    unique on a connection)."""
    return (o['client'], o['direction'], o['correlation_id'])


def gap_case(dump, tmp, port, pkts, base, res, name, drop, snap=None, expect_note=r'missing',
             lost_ok=None, same_offsets=True):
    """Drops packets (drop(i, where) true) or cuts one short (snap: index -> bytes kept);
    frames lost must be those lost_ok allows; everything else as before."""
    kept = []
    for i, p in enumerate(pkts):
        if drop(i):
            continue
        if snap and i in snap:
            p = Packet(p.sec, p.usec, p.data[:snap[i]], len(p.data))
        kept.append(p)
    path = os.path.join(tmp, 'gap.pcap')
    with open(path, 'wb') as f:
        f.write(write_pcap(kept))
    rc, objs, err = dump_file(dump, path, port)
    where = 'tcp %s' % name
    # frame numbers move when frames are lost; stream offsets when the capture starts late
    blank = {'frame': 0, 'conn': 0} if same_offsets else {'frame': 0, 'conn': 0, 'offset': 0}
    a = {frame_key(o): {**core(o), **blank} for o in base}
    b = {frame_key(o): {**core(o), **blank} for o in objs}
    lost = sorted(set(a) - set(b), key=str)
    extra = sorted(set(b) - set(a), key=str)
    differ = sorted((k for k in set(a) & set(b) if a[k] != b[k]), key=str)
    res.check(not extra and not differ, where, 'frames other than the lost ones unchanged',
              {'extra': extra[:3], 'differ': differ[:3]}, 'none')
    res.check(lost and all(lost_ok(a_key, a[a_key]) for a_key in lost), where,
              'the lost frames are those the gap touches', lost, 'those')
    res.check(re.search(expect_note, err) is not None, where, 'a note on stderr',
              err.strip()[-300:], expect_note)
    res.check(rc == 1, where, 'exit status', rc, 1)
    return lost


def check_tcp(dump, vectors, tmp, base, res):
    set_dir = os.path.join(vectors, 'kcat')
    port = broker_port(set_dir)
    pkts = read_pcap(os.path.join(set_dir, 'session.pcap'))
    rng = random.Random(20240611)
    cases = [
        ('small segments', dict(size_range=(1, 7), shuffle=False)),
        ('segments reordered', dict(size_range=(1, 40), shuffle=True)),
        ('segments reordered, duplicated, overlapping',
         dict(size_range=(1, 40), shuffle=True, dup=0.3, overlap=0.3)),
        ('one-byte segments reordered', dict(size_range=(1, 1), shuffle=True, dup=0.1)),
    ]
    for name, kw in cases:
        seg, _ = resegment(pkts, rng, **kw)
        path = os.path.join(tmp, 'seg.pcap')
        with open(path, 'wb') as f:
            f.write(write_pcap(seg))
        rc, objs, err = dump_file(dump, path, port)
        compare_frames('tcp %s' % name, base, objs, res, key=stream_key)
        res.check('missing' not in err and 'skipped' not in err, 'tcp %s' % name,
                  'no notes about lost bytes', err.strip()[-300:], 'none')
    print('tcp: %d segmentations' % len(cases))

    # Gaps. Stream offsets of each packet's payload, per (client, direction), from the
    # capture itself: frames map to packets through their stream offsets.
    seg, where = resegment(pkts, random.Random(7), size_range=(100, 100), shuffle=False)
    by_packet = {}
    for i, p in enumerate(pkts):
        eth, iph, tcph, payload = split_eth(p.data)
        by_packet[i] = (iph[12:16], tcph[:2], iph[16:20], tcph[2:4], len(payload))
    # the 900-byte Produce request and a frame boundary between two requests
    produce = [o for o in base if o['api_key'] == 0 and o['direction'] == 'request'][0]
    pidx = produce['packet'] - 1
    inner = [k for k, w in enumerate(where) if w[0] == pidx and w[1] == 400]
    responses_of = {(o['client'], o['correlation_id']) for o in base
                    if o['direction'] == 'request'}

    def lost_only(frames):
        return lambda key, frame: key in [frame_key(f) for f in frames]

    def lost_with_response(frames):
        def ok(key, frame):
            return any(frame['correlation_id'] == f['correlation_id'] and key[0] == f['client']
                       for f in frames)
        return ok

    # The request's header is still there: its response decodes; only the request is lost.
    gap_case(dump, tmp, port, seg, base, res, 'gap inside a request',
             lambda i: i in inner, expect_note=r'bytes missing at stream offset \d+: the frame '
             r'at stream offset %d \(904 bytes, Produce v7, correlation id %d\) is skipped' %
             (produce['offset'], produce['correlation_id']), lost_ok=lost_only([produce]))
    # a response: the biggest Fetch response
    fetch = max((o for o in base if o['api_key'] == 1 and o['direction'] == 'response'),
                key=lambda o: o['size'])
    fidx = fetch['packet'] - 1
    inner = [k for k, w in enumerate(where) if w[0] == fidx and w[1] == 200]
    gap_case(dump, tmp, port, seg, base, res, 'gap inside a response',
             lambda i: i in inner, expect_note=r'is skipped', lost_ok=lost_only([fetch]))
    # across a boundary: the last segment of one request packet and the first of the next
    # request packet on the same connection
    reqs = [o for o in base if o['direction'] == 'request' and o['conn'] == produce['conn']]
    a_req, b_req = reqs[0], reqs[1]
    a_idx, b_idx = a_req['packet'] - 1, b_req['packet'] - 1
    a_segs = [k for k, w in enumerate(where) if w[0] == a_idx]
    b_segs = [k for k, w in enumerate(where) if w[0] == b_idx]
    drop = {a_segs[-1], b_segs[0]}
    gap_case(dump, tmp, port, seg, base, res, 'gap across a frame boundary',
             lambda i: i in drop, expect_note=r'looking for the next frame',
             lost_ok=lost_with_response([a_req, b_req]))
    # the snapshot length cuts a request packet short
    gap_case(dump, tmp, port, pkts, base, res, 'snapshot length', lambda i: False,
             snap={pidx: 200}, expect_note=r'cut short by the snapshot length',
             lost_ok=lost_only([produce]))
    # the capture starts in the middle of connection 2: its packets before a request's
    # second segment are gone
    conn2 = [o for o in base if o['conn'] == 2]
    r2 = [o for o in conn2 if o['direction'] == 'request'][2]
    c2 = r2['client']
    r2_idx = r2['packet'] - 1
    first_seg = min(k for k, w in enumerate(where) if w[0] == r2_idx)
    cport = struct.pack('>H', int(c2.rsplit(':', 1)[1]))

    def conn2_before(i):
        p = seg[i]
        eth, iph, tcph, payload = split_eth(p.data)
        return i <= first_seg and cport in (tcph[0:2], tcph[2:4])

    def lost_start(key, frame):
        return key[0] == c2 and frame['frame'] <= r2['frame'] + 1
    lost = gap_case(dump, tmp, port, seg, base, res, 'capture starts inside a connection',
                    conn2_before, expect_note=r'the capture starts inside this connection: '
                    r'skipped \d+ bytes to the first frame', lost_ok=lost_start,
                    same_offsets=False)
    print('tcp gaps: 5 cases (%d frames lost when the capture starts late)' % len(lost))


# ---------------------------------------------------------------------------
# 5: hostile captures


def check_hostile(dump, vectors, tmp, res):
    set_dir = os.path.join(vectors, 'kcat')
    port = broker_port(set_dir)
    pkts = read_pcap(os.path.join(set_dir, 'session.pcap'))
    small = pkts[:40]
    blobs = {'pcap': write_pcap(small),
             'pcapng': ng_section('<', [(1, 6), (113, 9)], [(i % 2, p if i % 2 == 0 else
                                                            relink([p], 'sll')[0])
                                                           for i, p in enumerate(small)]),
             'pcap-seg': write_pcap(resegment(small, random.Random(3), (1, 30), True, 0.2,
                                              0.2)[0])}
    rng = random.Random(99)
    inputs = []
    for name, blob in blobs.items():
        # every cut inside the first 200 bytes, then every 53rd
        for n in list(range(0, 200)) + list(range(200, len(blob), 53)):
            inputs.append(('%s cut at %d' % (name, n), blob[:n]))
        # overwritten bytes: in the headers, and anywhere
        for k in range(120):
            b = bytearray(blob)
            for _ in range(rng.randint(1, 4)):
                pos = rng.randrange(0, 120) if k % 2 else rng.randrange(len(b))
                b[pos] = rng.choice([0, 0xff, 0x7f, 0x80, rng.randrange(256)])
            inputs.append(('%s mutation %d' % (name, k), bytes(b)))
        # lengths set to extremes where they sit
        for pos in (8, 12, 16, 20, 24, 28, 32, 36, 40, 44, 48):
            for v in (0, 0xffffffff, 0x7fffffff, 0x10, 0xfffffff0):
                b = bytearray(blob)
                b[pos:pos + 4] = struct.pack('<I', v)
                inputs.append(('%s u32 %#x at %d' % (name, v, pos), bytes(b)))
    # a pcapng with an interface id out of range, a huge tsresol, and a bad trailer
    bad = bytearray(ng_section('<', [(1, 0x7f)], [(5, p) for p in small[:5]]))
    inputs.append(('pcapng odd interface and resolution', bytes(bad)))
    inputs.append(('garbage after a pcap header', write_pcap([])[:24] + bytes(
        rng.randrange(256) for _ in range(3000))))
    inputs.append(('garbage after a pcapng header', ng_section('<', [], [])[:28] + bytes(
        rng.randrange(256) for _ in range(3000))))
    # Many files per run (kwire-dump reads each as its own input); a run that fails is
    # taken apart file by file to name the input.
    paths = []
    for k, (name, blob) in enumerate(inputs):
        paths.append(os.path.join(tmp, 'hostile%04d.cap' % k))
        with open(paths[-1], 'wb') as f:
            f.write(blob)

    def crashed(files):
        try:
            p = subprocess.run([dump, '--port', port, '--quiet'] + files,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120)
            rc, err = p.returncode, p.stderr.decode('utf-8', 'replace')
        except subprocess.TimeoutExpired:
            rc, err = 'timeout', ''
        return (rc not in (0, 1) or SANITIZER_RE.search(err)), rc, err

    bad_count = 0
    batch = 100
    for at in range(0, len(paths), batch):
        if not crashed(paths[at:at + batch])[0]:
            continue
        for k in range(at, min(at + batch, len(paths))):
            bad, rc, err = crashed([paths[k]])
            if not bad:
                continue
            bad_count += 1
            if bad_count <= 5:
                kept = os.path.join(tempfile.gettempdir(), 'kwire-dump-hostile-%d.cap' % bad_count)
                with open(kept, 'wb') as f:
                    f.write(inputs[k][1])
                print('FAIL hostile %s: exit %r (input kept in %s): %s' %
                      (inputs[k][0], rc, kept, err.strip()[-500:]))
    res.check(bad_count == 0, 'hostile', 'captures that crashed', bad_count, 0)
    # the same bytes through standard input
    rc, _, err = run([dump, '--port', port, '-'], stdin=blobs['pcapng'][:777])
    res.check(rc in (0, 1) and not SANITIZER_RE.search(err), 'hostile', 'cut capture on stdin',
              rc, '0 or 1')
    print('hostile: %d inputs' % len(inputs))


# ---------------------------------------------------------------------------
# 6: options


def check_options(dump, vectors, tmp, base, res):
    set_dir = os.path.join(vectors, 'kcat')
    port = broker_port(set_dir)
    pcap = os.path.join(set_dir, 'session.pcap')
    trows = cd.read_tsv(os.path.join(set_dir, 'tshark.tsv'))
    pairs, _, _ = join_by_packet(base, trows)

    def selected(args):
        rc, out, err = run([dump, '--port', port] + args + [pcap])
        return [(o['packet'], o['direction'], o['correlation_id']) for o in parse_lines(out)]

    def ident(objs):
        return [(o['packet'], o['direction'], o['correlation_id']) for o in objs]

    got = selected(['--api', 'Produce'])
    want = ident(o for o, t in pairs if t['api_key'] == '0')
    res.check(got == want and want, 'options', '--api Produce', got, want)
    got = selected(['--api', '3,fetch', '--api', '12'])
    want = ident(o for o, t in pairs if t['api_key'] in ('1', '3', '12'))
    res.check(got == want and want, 'options', '--api 3,fetch --api 12', got, want)
    got = selected(['--correlation-id', '4'])
    want = ident(o for o, t in pairs if t['correlation_id'] == '4')
    res.check(got == want and want, 'options', '--correlation-id 4', got, want)
    # --topic: frames whose topics (tshark's view) name it, and the responses to requests
    # that did
    asked = {(o['conn'], o['correlation_id']) for o, t in pairs
             if t['dir'] == 'req' and 'cap-kcat' in cd.split_list(t['topics'])}
    want = ident(o for o, t in pairs if 'cap-kcat' in cd.split_list(t['topics']) or
                 (t['dir'] == 'rsp' and (o['conn'], o['correlation_id']) in asked))
    got = selected(['--topic', 'cap-kcat'])
    res.check(got == want and want, 'options', '--topic cap-kcat', got, want)
    got = selected(['--topic', 'no-such-topic'])
    res.check(got == [], 'options', '--topic no-such-topic', got, [])
    got = selected(['--topic', 'cap-kcat', '--api', 'Fetch'])
    want = ident(o for o, t in pairs if t['api_key'] == '1' and (
        'cap-kcat' in cd.split_list(t['topics']) or (t['dir'] == 'rsp' and (
            o['conn'], o['correlation_id']) in asked)))
    res.check(got == want and want, 'options', '--topic cap-kcat --api Fetch', got, want)

    # --summary: per API and version, requests and responses as tshark counts them
    rc, out, err = run([dump, '--port', port, '--summary', pcap])
    table = {}
    for line in out.splitlines():
        m = re.match(r'(\S.*?) \((\d+)\)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)$', line)
        if m:
            table[(m.group(2), m.group(3))] = (int(m.group(4)), int(m.group(5)),
                                              int(m.group(6)), int(m.group(7)), int(m.group(8)))
    want = collections.defaultdict(lambda: [0, 0, 0, 0, 0])
    for t in trows:
        w = want[(t['api_key'], t['api_version'])]
        d = 0 if t['dir'] == 'req' else 1
        w[d] += 1
        w[2 + d] += int(t['length']) + 4
    for o, t in pairs:
        if 'error' in o:
            want[(t['api_key'], t['api_version'])][4] += 1
    want = {k: tuple(v) for k, v in want.items()}
    res.check(table == want, 'options', '--summary table', table, want)
    m = re.search(r'connections (\d+), gaps (\d+)', out)
    res.check(m and m.group(1) == '6' and m.group(2) == '0', 'options', '--summary connections',
              m and m.groups(), ('6', '0'))
    res.check(rc == 1 and not out.startswith('{'), 'options', '--summary prints no frames',
              rc, 1)

    # --pretty: the same objects, indented
    rc, out, err = run([dump, '--port', port, '--pretty', pcap])
    dec, objs, at = json.JSONDecoder(), [], 0
    while at < len(out):
        while at < len(out) and out[at].isspace():
            at += 1
        if at >= len(out):
            break
        obj, at = dec.raw_decode(out, at)
        objs.append(obj)
    res.check(objs == base and out.count('\n') > 10 * len(base), 'options', '--pretty',
              len(objs), len(base))

    # raw frames as hex (with a comment and odd spacing), and on standard input
    reqs = sorted(f for f in os.listdir(set_dir) if '_req_' in f)[:6]
    raw = b''.join(open(os.path.join(set_dir, f), 'rb').read() for f in reqs)
    rc0, out0, _ = run([dump, os.path.join(set_dir, reqs[0])] +
                       [os.path.join(set_dir, f) for f in reqs[1:]])
    hexed = '# kcat requests\n' + '\n'.join(
        ' '.join('%02x' % b for b in raw[i:i + 16]) for i in range(0, len(raw), 16)) + '\n'
    hpath = os.path.join(tmp, 'frames.hex')
    with open(hpath, 'w') as f:
        f.write(hexed)
    rc1, out1, err1 = run([dump, hpath])
    rc2, out2, err2 = run([dump, '-'], stdin=raw)
    rc3, out3, err3 = run([dump, '--hex', '-'], stdin=hexed.replace(' ', '').encode())

    def bodies(out):
        return [(o['api_key'], o['correlation_id'], o['body']) for o in parse_lines(out)]
    ok = rc1 == rc2 == rc3 == 0 and bodies(out1) == bodies(out2) == bodies(out3) and \
        [b for b in bodies(out1)] == [b for b in bodies(out0)] and len(bodies(out1)) == 6
    res.check(ok, 'options', 'hex, stdin and files agree', (rc1, rc2, rc3, err1[:200]),
              (0, 0, 0))
    res.check(all(o['source'] == '<stdin>' for o in parse_lines(out2)), 'options',
              'source of stdin', None, '<stdin>')
    rc, out, err = run([dump, '--hex', '-'], stdin=b'00 00 00 0')
    res.check(rc == 1 and 'half a byte' in err, 'options', 'odd hex', err.strip(), 'half a byte')
    rc, out, err = run([dump, '--port', '1', pcap])
    # Nothing on the chosen port decodes: exit 1, with the port that had the traffic.
    res.check(rc == 1 and out == '' and 'connections were opened to port %s (6)' % port in err,
              'options', 'hint about the port', err.strip(), 'port %s (6)' % port)


# ---------------------------------------------------------------------------
# 7: topic ids (Fetch v13+ names topics by id only)


def uvarint(n):
    out = b''
    while True:
        b = n & 0x7f
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def cstr(s):
    return uvarint(0) if s is None else uvarint(len(s) + 1) + s.encode()


def carray(items):
    return uvarint(len(items) + 1) + b''.join(items)


def frame(body):
    return struct.pack('>i', len(body)) + body


def request_v2(key, version, corr, body):
    return frame(struct.pack('>hhih', key, version, corr, 4) + b'kcat' + b'\0' + body)


def topic_id_frames():
    """Metadata v12 request and response tying two topic ids to names, then Fetch v13
    requests by id: one for each topic."""
    foo, bar = bytes(range(1, 17)), bytes(range(101, 117))
    meta_req = request_v2(3, 12, 1, carray([foo + cstr('foo') + b'\0', bar + cstr('bar') + b'\0'])
                          + b'\1\0' + b'\0')

    def topic(name, tid):
        part = struct.pack('>hiii', 0, 0, 1, 0) + carray([struct.pack('>i', 1)]) + \
            carray([struct.pack('>i', 1)]) + carray([]) + b'\0'
        return struct.pack('>h', 0) + cstr(name) + tid + b'\0' + carray([part]) + \
            struct.pack('>i', -2147483648) + b'\0'
    meta_rsp = frame(struct.pack('>i', 1) + b'\0' + struct.pack('>i', 0) +
                     carray([struct.pack('>i', 1) + cstr('localhost') + struct.pack('>i', 9092) +
                             cstr(None) + b'\0']) + cstr('cluster') + struct.pack('>i', 1) +
                     carray([topic('foo', foo), topic('bar', bar)]) + b'\0')

    def fetch(corr, tid):
        part = struct.pack('>iiqiqi', 0, -1, 0, -1, -1, 1048576) + b'\0'
        return request_v2(1, 13, corr, struct.pack('>iiiibii', -1, 500, 1, 52428800, 0, 0, -1) +
                          carray([tid + carray([part]) + b'\0']) + carray([]) + cstr('') +
                          b'\0')
    return meta_req + meta_rsp + fetch(2, foo) + fetch(3, bar)


def check_topic_ids(dump, tmp, res):
    path = os.path.join(tmp, 'topic_ids.bin')
    with open(path, 'wb') as f:
        f.write(topic_id_frames())
    rc, out, err = run([dump, '--roundtrip', path])
    objs = parse_lines(out)
    res.check(rc == 0 and [(o['api_name'], o['direction'], o['api_version']) for o in objs] == [
        ('Metadata', 'request', 12), ('Metadata', 'response', 12), ('Fetch', 'request', 13),
        ('Fetch', 'request', 13)], 'topic ids', 'the frames decode', (rc, err[:300]), 0)
    rc, out, err = run([dump, '--topic', 'foo', path])
    got = [(o['api_name'], o['correlation_id']) for o in parse_lines(out)]
    want = [('Metadata', 1), ('Metadata', 1), ('Fetch', 2)]
    res.check(got == want, 'topic ids', '--topic foo finds the Fetch by topic id', got, want)
    rc, out, err = run([dump, '--topic', 'bar', '--api', 'Fetch', path])
    got = [(o['api_name'], o['correlation_id']) for o in parse_lines(out)]
    res.check(got == [('Fetch', 3)], 'topic ids', '--topic bar --api Fetch', got, [('Fetch', 3)])


def main(argv):
    if len(argv) != 3:
        print(__doc__.splitlines()[2], file=sys.stderr)
        return 2
    dump, vectors = argv[1], argv[2]
    res = Result()
    base = None
    for name in SETS:
        objs = check_session(dump, vectors, name, res)
        if name == 'kcat':
            base = objs
    if base is None:
        print('dump-pcap: no kcat output to compare the rest with')
        return 1
    with tempfile.TemporaryDirectory(prefix='kwire-dump-pcap-') as tmp:
        check_capture_corruption(dump, vectors, tmp, res)
        check_formats(dump, vectors, tmp, base, res)
        check_tcp(dump, vectors, tmp, base, res)
        check_hostile(dump, vectors, tmp, res)
        check_options(dump, vectors, tmp, base, res)
        check_topic_ids(dump, tmp, res)
    print('dump-pcap: %d passed, %d failed' % (res.passed, res.failed))
    return 1 if res.failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
