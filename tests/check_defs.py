#!/usr/bin/env python3
"""Compare kwire's message definitions (lib/defs/*.kwdef) with Apache Kafka's schemas.

usage: check_defs.py [REFERENCE_DIR [DEFS_DIR]]

REFERENCE_DIR defaults to $KW_REFERENCE_DIR, else ../shared/reference next to the
repository. It holds kafka-message-schemas/ and kafka-metadata-record-schemas/ (Kafka
as of October 2024) and, when present, kafka-4.4/ (message-schemas/ and
metadata-record-schemas/). The definitions must hold the union: every version either
snapshot defines, each version checked against the newest snapshot that defines it
(Kafka 4 removed old versions from its files; old clients still send them), and
validVersions "none" (APIs Kafka 4 removed) adds no version. Without REFERENCE_DIR the
check is skipped (exit 77). DEFS_DIR defaults to lib/defs.

The .kwdef files are read by the strict parser of lib/gen/kwschema.py (not by the
generator); the comparison is lib/gen/kwimport.py's, the importer's own report, so
this check and `kwimport.py` agree by construction. On top of it, the files' own
rules: names, one api per file, struct blocks used and unique. Standard library only.
"""

import glob
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), 'lib', 'gen'))
import kwschema as ks  # noqa: E402
import kwimport  # noqa: E402

SKIP = 77
MAX_ERRORS_PER_MESSAGE = 25
# Data entries whose Kafka schemas live in the group coordinator's module, which the reference
# snapshots do not hold: checked when a snapshot has them, otherwise only counted.
NOT_IN_REFERENCE = {'OffsetCommitKey', 'OffsetCommitValue', 'GroupMetadataKey'}


def self_test():
    """The shared rules, on fixed examples (a broken rule would hide mismatches)."""
    examples = {'TopicData': 'topic_data', 'ProducerId': 'producer_id', 'IsrNodes': 'isr_nodes',
                'AllowAutoTopicCreation': 'allow_auto_topic_creation',
                'ZkMigrationReady': 'zk_migration_ready', 'KRaftVersion': 'kraft_version',
                'isKRaftController': 'is_kraft_controller', 'V3AndBelowTopics': 'v3_and_below_topics',
                'ResultsByTopicV3AndBelow': 'results_by_topic_v3_and_below', 'V0Host': 'v0_host',
                'timeoutMs': 'timeout_ms', 'URL': 'url', 'ClientID': 'client_id',
                'HTTPServer': 'http_server'}
    for camel, want in examples.items():
        assert ks.snake(camel) == want, (camel, ks.snake(camel), want)
    text = '// head\n{ "a": "see http://x.org/y // z", // tail\n  "b": "q\\"//" }\n'
    assert ks.json.loads(ks.strip_json_comments(text)) == {'a': 'see http://x.org/y // z',
                                                           'b': 'q"//'}
    removed = ks.schema_from_json('{"apiKey": 4, "type": "request", "name": "LeaderAndIsrRequest",'
                                  ' "validVersions": "none"}', 'x.json')
    assert removed.version_set() == set() and removed.flexible == 'none'
    assert kwimport.vtext({3, 4, 5}, 5) == '3+' and kwimport.vtext({3, 4}, 5) == '3-4'
    assert kwimport.vset('2+', 4) == {2, 3, 4} and kwimport.vset(None, 4) == set()


def reference_sources(ref_dir):
    """The snapshots present, oldest first."""
    sources = [os.path.join(ref_dir, 'kafka-message-schemas'),
               os.path.join(ref_dir, 'kafka-metadata-record-schemas')]
    newer = os.path.join(ref_dir, 'kafka-4.4')
    if os.path.isdir(newer):
        sources.append(newer)
    return [s for s in sources if os.path.isdir(s)]


def main(argv):
    self_test()
    repo = os.path.dirname(HERE)
    if len(argv) > 1:
        ref_dir = argv[1]
    else:
        ref_dir = os.environ.get('KW_REFERENCE_DIR') or os.path.join(repo, '..', 'shared', 'reference')
    defs_dir = argv[2] if len(argv) > 2 else os.path.join(repo, 'lib', 'defs')

    if not os.path.isdir(os.path.join(ref_dir, 'kafka-message-schemas')):
        print('defs: reference not found at %s, skipping' % os.path.normpath(ref_dir))
        return SKIP
    sources = reference_sources(ref_dir)
    try:
        union = kwimport.load_union(sources)
    except (ValueError, KeyError) as e:
        print('defs: cannot read the reference: %s' % e)
        print('0 passed, 1 failed')
        return 1
    print('defs: reference snapshots %s' % ', '.join(os.path.relpath(s, ref_dir) for s in sources))
    failed = passed = 0
    problems = []

    # Parse every definition file.
    defined = {}
    api_keys = set()
    paths = sorted(glob.glob(os.path.join(defs_dir, '*.kwdef')))
    if not paths:
        print('defs: no .kwdef files in %s' % defs_dir)
        return 1
    for path in paths:
        shown = os.path.basename(path)
        df = ks.parse_defs_file(path, shown)
        errs = list(df.errors)
        if df.api is not None:
            want = '%02d_%s.kwdef' % (df.api[0], ks.snake(df.api[1]))
            if shown != want:
                errs.append('%s: file of api %d %s should be named %s' %
                            (shown, df.api[0], df.api[1], want))
            if df.api[0] in api_keys:
                errs.append('%s: api key %d defined twice' % (shown, df.api[0]))
            api_keys.add(df.api[0])
        for m in df.messages:
            if m.name in defined:
                errs.append('%s: message %s defined again (first at %s)' %
                            (m.where, m.name, defined[m.name].where))
            defined[m.name] = m
        if errs:
            failed += 1
            problems.append(('FAIL %s (format)' % shown, errs))

    by_identity = {m.identity(): m for m in defined.values()}
    for m in defined.values():
        errs = []
        ks.check_struct_names(m, errs)
        if errs:
            failed += 1
            problems.append(('FAIL %s (structs)' % m.name, errs))

    # Compare message by message, with the importer's report.
    counts = {'request': 0, 'response': 0}
    others = removed = unchecked = 0
    for identity in sorted(set(union) | set(by_identity), key=str):
        ref, d = union.get(identity), by_identity.get(identity)
        if ref is None and d.name in NOT_IN_REFERENCE:
            unchecked += 1
            continue
        if ref is None:
            failed += 1
            problems.append(('FAIL %s' % d.name, ['%s: not in the reference' % d.where]))
            continue
        name = ref.newest.name
        if d is None:
            failed += 1
            problems.append(('FAIL %s' % name, ['%s (%s) has no definition' %
                                                (name, ref.newest.where)]))
            continue
        if not ref.newest.version_set():
            removed += 1              # validVersions "none" in the newest snapshot
        if identity[0] in counts:
            counts[identity[0]] += len(ref.versions())
        else:
            others += 1
        errs = []
        diffs = {}
        for v, res in kwimport.compare(d, ref).items():
            if res == 'missing':
                errs.append('%s v%d: not defined (reference %s)' % (d.name, v, ref.at(v)[0].where))
            else:
                for text in res:
                    diffs.setdefault(text, []).append(v)
        for text, vs in diffs.items():
            errs.append('%s v%s %s' % (d.name, ks.version_list(vs), text))
        if d.version_set() - ref.versions():
            errs.append('%s: versions %s defined, in no reference' %
                        (d.name, ks.version_list(sorted(d.version_set() - ref.versions()))))
        if errs:
            failed += 1
            problems.append(('FAIL %s' % name, errs))
        else:
            passed += 1

    ref_keys = {i[1] for i in union if i[0] == 'request'}
    print('defs: %d api keys (%d removed by the newest snapshot, kept for older clients), '
          '%d request versions, %d response versions, %d other messages checked' %
          (len(ref_keys & api_keys), removed // 2, counts['request'], counts['response'], others))
    if unchecked:
        print('defs: %d data entries not in the reference, not checked: %s' %
              (unchecked, ', '.join(sorted(NOT_IN_REFERENCE))))
    for title, errs in problems:
        print(title)
        for e in errs[:MAX_ERRORS_PER_MESSAGE]:
            print('  ' + e)
        if len(errs) > MAX_ERRORS_PER_MESSAGE:
            print('  ... and %d more' % (len(errs) - MAX_ERRORS_PER_MESSAGE))
    print('%d passed, %d failed' % (passed, failed))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
