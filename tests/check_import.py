#!/usr/bin/env python3
"""The importer (lib/gen/kwimport.py) against Kafka's schemas: its report on lib/defs is
empty, and on a copy of lib/defs made older (messages cut back to fewer versions, whole
APIs and records removed) `--write` restores the very same files.

usage: check_import.py [REFERENCE_DIR]   (skips, exit 77, without the reference)
"""

import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, 'lib', 'gen'))
import kwimport  # noqa: E402
import kwschema as ks  # noqa: E402

# (file, message kind, versions to keep): what the definitions looked like before Kafka 4.4
CUT_BACK = [('00_produce.kwdef', 'request', 11), ('00_produce.kwdef', 'response', 11),
            ('01_fetch.kwdef', 'request', 17), ('18_api_versions.kwdef', 'response', 4),
            ('52_vote.kwdef', 'request', 1), ('78_share_fetch.kwdef', 'response', 0)]
REMOVED = ['88_streams_group_heartbeat.kwdef', '94_unregister_controller.kwdef']


def cut_back(path, kind, keep):
    """Rewrites one message of a file with its versions above `keep` dropped."""
    df = ks.parse_defs_file(path, os.path.basename(path))
    m = next(x for x in df.messages if x.kind == kind)
    only = set(range(0, keep + 1))
    root = kwimport.nodes_from(m.fields, max(m.version_set()), only)
    blocks = {n: kwimport.nodes_from(fs, max(m.version_set()), only)
              for n, fs in m.structs.items()}
    prune(root)
    for nodes in blocks.values():
        prune(nodes)
    lo = min(m.version_set())
    flex = ks.Versions(m.flexible)
    flexible = m.flexible if flex.lo <= keep else 'none'
    head = kwimport.head_line(m, '%d-%d' % (lo, keep) if lo != keep else str(lo), flexible)
    lines = kwimport.render_message(head, root, blocks, keep)
    with open(path, encoding='utf-8') as fh:
        text = fh.read().split('\n')
    text[m.lines[0] - 1:m.lines[1]] = lines
    with open(path, 'w', encoding='utf-8') as fh:
        fh.write('\n'.join(text))


def prune(nodes):
    nodes[:] = [n for n in nodes if n.versions]
    for n in nodes:
        if n.children is not None:
            prune(n.children)


def main(argv):
    ref_dir = argv[1] if len(argv) > 1 else os.path.join(REPO, '..', 'shared', 'reference')
    newer = os.path.join(ref_dir, 'kafka-4.4')
    if not os.path.isdir(os.path.join(ref_dir, 'kafka-message-schemas')) or \
            not os.path.isdir(newer):
        print('import: reference not found at %s, skipping' % os.path.normpath(ref_dir))
        return 77
    sources = [os.path.join(ref_dir, 'kafka-message-schemas'),
               os.path.join(ref_dir, 'kafka-metadata-record-schemas'), newer]
    tool = os.path.join(REPO, 'lib', 'gen', 'kwimport.py')
    defs = os.path.join(REPO, 'lib', 'defs')
    passed = failed = 0

    def check(ok, what):
        nonlocal passed, failed
        print('%s %s' % ('ok  ' if ok else 'FAIL', what))
        if ok:
            passed += 1
        else:
            failed += 1

    run = subprocess.run([sys.executable, tool, '--quiet', '--defs', defs] + sources,
                         capture_output=True, text=True)
    check(run.returncode == 0 and ' 0 missing, 0 different' in run.stdout,
          'lib/defs against both snapshots: %s' % run.stdout.strip().split('\n')[-1])

    # The importer reads a jar as it reads a directory.
    with tempfile.TemporaryDirectory() as tmp:
        jar = os.path.join(tmp, 'schemas.jar')
        shutil.make_archive(jar[:-4], 'zip', newer)
        os.rename(jar[:-4] + '.zip', jar)
        run = subprocess.run([sys.executable, tool, '--quiet', '--defs', defs] + sources[:2] +
                             [jar], capture_output=True, text=True)
        check(run.returncode == 0 and ' 0 missing, 0 different' in run.stdout,
              'the 4.4 snapshot as a jar: %s' % run.stdout.strip().split('\n')[-1])

        # The released jars, where .ci/install-kafka put them.
        lib = os.path.join(REPO, 'tests', 'kafka', 'lib')
        jars = [os.path.join(lib, j) for j in ('kafka-clients-4.4.0.jar',
                                               'kafka-metadata-4.4.0.jar')]
        if all(os.path.isfile(j) for j in jars):
            run = subprocess.run([sys.executable, tool, '--quiet', '--defs', defs] + jars,
                                 capture_output=True, text=True)
            check(run.returncode == 0 and ' 0 missing, 0 different' in run.stdout,
                  'kafka-clients and kafka-metadata 4.4.0 jars: %s' %
                  run.stdout.strip().split('\n')[-1])
        else:
            print('skip the released 4.4.0 jars: not in %s (.ci/install-kafka)' % lib)

        old = os.path.join(tmp, 'defs')
        shutil.copytree(defs, old)
        for name, kind, keep in CUT_BACK:
            cut_back(os.path.join(old, name), kind, keep)
        for name in REMOVED:
            os.remove(os.path.join(old, name))
        run = subprocess.run([sys.executable, tool, '--quiet', '--defs', old] + sources,
                             capture_output=True, text=True)
        missing = [line for line in run.stdout.split('\n') if line.startswith('MISSING')]
        check(run.returncode == 1 and len(missing) == len(CUT_BACK) + 2 * len(REMOVED),
              'an older copy: %d messages reported missing versions' % len(missing))
        run = subprocess.run([sys.executable, tool, '--quiet', '--write', '--defs', old] +
                             sources, capture_output=True, text=True)
        check('CONFLICT' not in run.stdout, '--write wrote without conflicts')
        for name in sorted(set(n for n, _, _ in CUT_BACK) | set(REMOVED)):
            with open(os.path.join(defs, name), encoding='utf-8') as a:
                want = a.read().split('\n')[1:]    # the first line is a reviewer's comment
            try:
                with open(os.path.join(old, name), encoding='utf-8') as b:
                    got = b.read().split('\n')[1:]
            except FileNotFoundError:
                got = None
            check(got == want, '--write restored %s' % name)
        run = subprocess.run([sys.executable, tool, '--quiet', '--defs', old] + sources,
                             capture_output=True, text=True)
        check(run.returncode == 0, 'after --write: %s' % run.stdout.strip().split('\n')[-1])
    print('%d passed, %d failed' % (passed, failed))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
