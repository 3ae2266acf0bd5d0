#!/usr/bin/env python3
"""kwire-dump says what it saw: exit status, inputs that are not Kafka, and the JSON annotations.

usage: check_dump_cli.py KWIRE_DUMP VECTORS_DIR

1. Inputs with nothing to decode exit 1 and say why on stderr: an empty file, a text
   file, a binary of another format, text that starts like hex, a capture with no
   traffic on the chosen port, a size prefix longer than the input. A guessed format
   is named as "not a pcap or pcapng capture, nor a Kafka frame stream" with the first
   bytes in hex; with --format raw the frame error itself is reported.
2. Annotations, checked against values this script computes from the same JSON or from
   the raw frames with its own small parser:
   - every error_code has error_code_name; the codes the Kafka 4.4 session carries have
     the names the Kafka protocol guide gives them;
   - every *_timestamp_iso / timestamp_iso is the neighbouring millisecond value in
     ISO 8601 UTC, and every record's offset is base_offset + offset_delta;
   - JoinGroup protocol metadata and SyncGroup assignments (consumer protocol) equal
     what this script decodes from the raw frame bytes;
   - --summary lists, per API, the non-zero error codes of the responses by name with
     the counts this script counts in the JSON.

Exit status: 0 when everything passed. The last line is "dump-cli: N passed, M failed".
"""

import collections
import datetime
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'interop'))
import check_dump as cd  # noqa: E402
from kproto import Reader  # noqa: E402  (tests/interop/kproto.py)

NOT_A_STREAM = 'not a pcap or pcapng capture, nor a Kafka frame stream'

# Codes the kafka-4.4 session's responses carry, named as in the Kafka protocol guide.
GUIDE_NAMES = {
    0: 'NONE',
    14: 'COORDINATOR_LOAD_IN_PROGRESS',
    15: 'COORDINATOR_NOT_AVAILABLE',
    69: 'GROUP_ID_NOT_FOUND',
    79: 'MEMBER_ID_REQUIRED',
}


class Result:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, ok, what, got=None, want=None):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            print('FAIL %s: got %r, want %r' % (what, got, want))
        return ok


def run(args, stdin=None):
    p = subprocess.run(args, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=120)
    return p.returncode, p.stdout.decode('utf-8', 'replace'), p.stderr.decode('utf-8', 'replace')


def broker_port(set_dir):
    rows = cd.read_tsv(os.path.join(set_dir, 'index.tsv'))
    return rows[0]['server'].rsplit(':', 1)[1]


# ---------------------------------------------------------------------------
# 1: nothing to decode

def check_nothing_decoded(dump, vectors, tmp, res):
    def write(name, data):
        path = os.path.join(tmp, name)
        with open(path, 'wb') as f:
            f.write(data)
        return path

    cases = [
        ('empty file', write('empty.bin', b''), [], ['empty input']),
        ('text file', write('notes.txt', b'hello, these are notes\n'), [],
         [NOT_A_STREAM, '68 65 6c 6c 6f', 'over the maximum']),
        ('ELF binary', write('prog.elf', b'\x7fELF\x02\x01\x01' + bytes(40)), [],
         [NOT_A_STREAM, '7f 45 4c 46']),
        ('text starting like hex', write('face.txt', b'face the facts\n'), [],
         [NOT_A_STREAM, "byte 5 ('t') is not a hex digit"]),
        ('size prefix past the end', write('short.bin', b'\x00\x00\x00\x40abc'), [],
         [NOT_A_STREAM, 'asks for 68 bytes and the input has 7']),
        ('three bytes', write('three.bin', b'\x00\x01\x02'), [],
         [NOT_A_STREAM, 'fewer than a frame']),
        ('raw on purpose', write('notes2.txt', b'hello, these are notes\n'), ['--format', 'raw'],
         ['FRAME_TOO_LARGE']),
        ('empty stdin', '-', [], ['empty input']),
    ]
    pcap = os.path.join(vectors, 'kcat', 'session.pcap')
    if os.path.exists(pcap):
        cases.append(('capture, wrong port', pcap, ['--port', '1'],
                      ['no TCP traffic on port 1', 'choose with --port']))
    for what, path, extra, wants in cases:
        rc, out, err = run([dump] + extra + [path], stdin=b'' if path == '-' else None)
        res.check(rc == 1, '%s: exit status' % what, rc, 1)
        res.check(out == '', '%s: no output' % what, out[:200], '')
        for want in wants:
            res.check(want in err, '%s: stderr says %r' % (what, want), err.strip(), want)
        res.check('no Kafka frame decoded' in err, '%s: says nothing decoded' % what,
                  err.strip(), 'no Kafka frame decoded')
        if 'raw on purpose' in what:
            res.check(NOT_A_STREAM not in err, '%s: the frame error, not a guess' % what,
                      err.strip(), 'FRAME_TOO_LARGE only')

    # One good input among bad ones: frames decoded, but a failure still exits 1.
    good = sorted(f for f in os.listdir(os.path.join(vectors, 'kcat')) if f.endswith('.bin'))[0]
    rc, out, err = run([dump, os.path.join(vectors, 'kcat', good), os.path.join(tmp, 'notes.txt')])
    res.check(rc == 1 and out.count('\n') == 1 and 'no Kafka frame decoded' not in err,
              'good and bad input: exit 1, the good frame printed', (rc, out.count('\n'), err), 1)
    rc, out, err = run([dump, os.path.join(vectors, 'kcat', good)])
    res.check(rc == 0 and err == '', 'one good frame: exit 0, silent', (rc, err), 0)


# ---------------------------------------------------------------------------
# 2: annotations

def walk(value, visit, parent=None):
    """Calls visit(dict, parent) on every object inside value, depth first."""
    if isinstance(value, dict):
        visit(value, parent)
        for v in value.values():
            walk(v, visit, value)
    elif isinstance(value, list):
        for v in value:
            walk(v, visit, parent)


def iso(ms):
    t = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc) + datetime.timedelta(
        milliseconds=ms)
    return t.strftime('%Y-%m-%dT%H:%M:%S.') + '%03dZ' % (ms % 1000)


def check_annotations(dump, set_dir, res, counts):
    rc, out, err = run([dump, '--port', broker_port(set_dir),
                        os.path.join(set_dir, 'session.pcap')])
    name = os.path.basename(set_dir)
    res.check(rc == 0, '%s: exit status' % name, (rc, err[:300]), 0)
    seen = collections.Counter()

    def visit(obj, parent):
        if 'error_code' in obj and isinstance(obj['error_code'], int):
            seen['error codes'] += 1
            code = obj['error_code']
            got = obj.get('error_code_name')
            if code in GUIDE_NAMES or got is None:
                if res.check(got == GUIDE_NAMES.get(code, got) and got is not None,
                             '%s: name of error code %d' % (name, code), got,
                             GUIDE_NAMES.get(code)):
                    seen['names checked'] += 1
        for key in ('base_timestamp', 'max_timestamp', 'timestamp'):
            if key + '_iso' in obj:
                seen['iso times'] += 1
                res.check(obj[key + '_iso'] == iso(obj[key]), '%s: %s_iso' % (name, key),
                          obj[key + '_iso'], iso(obj[key]))
        if 'records' in obj and 'base_offset' in obj and isinstance(obj['records'], list):
            for r in obj['records']:
                seen['record offsets'] += 1
                res.check(r.get('offset') == obj['base_offset'] + r['offset_delta'],
                          '%s: record offset' % name, r.get('offset'),
                          obj['base_offset'] + r['offset_delta'])
            if obj['base_timestamp'] >= 0:
                res.check(all('timestamp_iso' in r for r in obj['records']),
                          '%s: every record has timestamp_iso' % name, None, True)

    for line in out.splitlines():
        frame = json.loads(line)
        if 'body' not in frame:
            continue
        walk(frame['body'], visit)
        if frame['direction'] == 'response':
            codes = []
            walk(frame['body'], lambda o, p: codes.append(o['error_code'])
                 if isinstance(o.get('error_code'), int) and o['error_code'] != 0 else None)
            for c in codes:
                counts[(frame['api_name'], c)] += 1
    for what in ('error codes', 'iso times', 'record offsets'):
        res.check(seen[what] > 0, '%s: %s found' % (name, what), seen[what], '> 0')
    print('%s: %d error codes (%d names checked against the guide), %d ISO times, '
          '%d record offsets' % (name, seen['error codes'], seen['names checked'],
                                 seen['iso times'], seen['record offsets']))
    return out


def check_summary_error_codes(dump, set_dir, res):
    counts = collections.Counter()
    out = check_annotations(dump, set_dir, res, counts)
    names = {}
    for line in out.splitlines():
        walk(json.loads(line).get('body'), lambda o, p: names.__setitem__(
            o['error_code'], o['error_code_name']) if 'error_code_name' in o else None)
    rc, summary, err = run([dump, '--summary', '--port', broker_port(set_dir),
                            os.path.join(set_dir, 'session.pcap')])
    res.check(rc == 0, 'summary: exit status', (rc, err[:300]), 0)
    lines = summary.splitlines()
    if not res.check('error codes in responses:' in lines, 'summary: error code section',
                     summary[-600:], 'error codes in responses:'):
        return
    section = lines[lines.index('error codes in responses:') + 1:]
    got = {}
    for line in section:
        if not line.startswith('  '):
            break
        api, rest = line.strip().split(': ', 1)
        for item in rest.split(', '):
            code_name, n = item.rsplit(' x', 1)
            got[(api, code_name)] = int(n)
    want = {(api, names[c]): n for (api, c), n in counts.items()}
    res.check(got == want and want, 'summary: error codes by API and name', got, want)
    print('summary: %d (API, error code) pairs' % len(want))


# ---------------------------------------------------------------------------
# consumer protocol, decoded here from the frames' bytes

def subscription(data):
    r = Reader(data)
    version = r.i16()
    out = {'version': version, 'topics': r.array(r.string), 'user_data': r.bytes_()}
    if version >= 1:
        out['owned_partitions'] = r.array(lambda: (r.string(), r.array(r.i32)))
    return out


def assignment(data):
    r = Reader(data)
    version = r.i16()
    return {'version': version,
            'assigned_partitions': r.array(lambda: (r.string(), r.array(r.i32))),
            'user_data': r.bytes_()}


def frame_body(path, request):
    """The body of a non-flexible frame (request header v1, response header v0)."""
    with open(path, 'rb') as f:
        r = Reader(f.read()[4:])
    if request:
        r.take(8)
        r.string()
    else:
        r.take(4)
    return r


def same_subscription(js, mine):
    return (js['version'] == mine['version'] and js['topics'] == mine['topics'] and
            (js['user_data'] or '') == (mine['user_data'] or b'').decode('latin-1'))


def same_assignment(js, mine):
    pairs = [(a['topic'], a['partitions']) for a in js['assigned_partitions']]
    return js['version'] == mine['version'] and pairs == mine['assigned_partitions']


def check_consumer_protocol(dump, vectors, res):
    d = os.path.join(vectors, 'kafkajs')
    files = sorted(os.listdir(d))
    join = [f for f in files if '_req_k11-JoinGroup_v5' in f][0]
    sync = [f for f in files if '_rsp_k14-SyncGroup_v3' in f][0]

    r = frame_body(os.path.join(d, join), True)
    r.string(), r.i32(), r.i32(), r.string(), r.string()  # group, timeouts, member, instance
    protocol_type = r.string()
    protocols = r.array(lambda: (r.string(), r.bytes_()))
    rc, out, err = run([dump, os.path.join(d, join)])
    body = json.loads(out)['body']
    res.check(protocol_type == 'consumer' and body['protocol_type'] == 'consumer',
              'JoinGroup: protocol type', body.get('protocol_type'), 'consumer')
    for (pname, meta), js in zip(protocols, body['protocols']):
        mine = subscription(meta)
        res.check(js['name'] == pname and isinstance(js['metadata'], dict) and
                  same_subscription(js['metadata'], mine), 'JoinGroup: metadata of %s' % pname,
                  js['metadata'], mine)
    res.check(len(protocols) == len(body['protocols']) > 0, 'JoinGroup: protocol count',
              len(body['protocols']), len(protocols))

    # The SyncGroup v3 response carries no protocol type: kwire-dump knows it from the
    # JoinGroup earlier in the same input, and leaves the bytes alone without it.
    r = frame_body(os.path.join(d, sync), False)
    r.i32(), r.i16()
    mine = assignment(r.bytes_())
    req = [f for f in files if '_req_k14-SyncGroup_v3' in f and
           f.split('_', 1)[1].replace('_req_', '_rsp_') == sync.split('_', 1)[1]][0]
    stream = b''
    for f in (join, req, sync):  # one input: responses match requests within an input
        with open(os.path.join(d, f), 'rb') as fh:
            stream += fh.read()
    rc, out, err = run([dump, '-'], stdin=stream)
    objs = [json.loads(line) for line in out.splitlines()]
    js = [o for o in objs if o['api_name'] == 'SyncGroup' and o['direction'] == 'response']
    res.check(len(js) == 1 and isinstance(js[0]['body']['assignment'], dict) and
              same_assignment(js[0]['body']['assignment'], mine), 'SyncGroup: assignment',
              js and js[0]['body']['assignment'], mine)
    rc, out, err = run([dump, '-'], stdin=stream[len(open(os.path.join(d, join), 'rb').read()):])
    alone = [json.loads(line) for line in out.splitlines()][-1]['body']['assignment']
    res.check(isinstance(alone, str), 'SyncGroup without its JoinGroup: the bytes as they are',
              alone, 'a hex string')
    print('consumer protocol: %d subscriptions, 1 assignment compared' % len(protocols))


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    dump, vectors = sys.argv[1], sys.argv[2]
    res = Result()
    with tempfile.TemporaryDirectory() as tmp:
        check_nothing_decoded(dump, vectors, tmp, res)
    check_summary_error_codes(dump, os.path.join(vectors, 'kafka-4.4'), res)
    for name in ('kafka-python', 'kafkajs'):
        check_annotations(dump, os.path.join(vectors, name), res, collections.Counter())
    check_consumer_protocol(dump, vectors, res)
    print('dump-cli: %d passed, %d failed' % (res.passed, res.failed))
    return 0 if res.failed == 0 else 1


if __name__ == '__main__':
    sys.exit(main())
