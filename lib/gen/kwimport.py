#!/usr/bin/env python3
"""Compare kwire's definitions with the message schemas of any Kafka release, and
write what is missing.

usage: kwimport.py [--defs DIR] [--write] [--quiet] SOURCE [SOURCE ...]

Each SOURCE is a directory of Kafka's JSON schemas, searched recursively (a Kafka
source tree, or a folder of schema files), or a jar holding them (kafka-clients'
common/message/*.json, kafka-metadata's common/metadata/*.json). Several sources
form a union, oldest first: a version is checked against the newest source that
defines it, because Kafka drops old versions from its files (KIP-896) while old
clients still send them. Messages are matched by API key (requests, responses), by
record type (KRaft records) or by name (headers, data).

The report says, per message and version, what lib/defs lacks (a message, a
version) or has differently (fields, types, nullability, tags, defaults). With
--write, messages and versions the definitions lack are written into lib/defs in
its own format (a message block rewritten with its versions extended, or a new
file per API), for review with `git diff`; differences in versions already defined
are reported, never rewritten. Exit status: 0 when nothing is missing or
different, 1 otherwise, 2 on a usage or input error.
"""

import argparse
import glob
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kwschema as ks  # noqa: E402


# ---------------------------------------------------------------------------
# The union of several sources

class Reference:
    """One message as several sources define it, oldest first."""

    def __init__(self, identity):
        self.identity = identity
        self.layers = []                  # [(source index, Message)]

    def versions(self):
        out = set()
        for _, m in self.layers:
            out |= m.version_set()
        return out

    def at(self, version):
        """The newest definition of a version, and whether it is the newest source's."""
        for i in range(len(self.layers) - 1, -1, -1):
            if version in self.layers[i][1].version_set():
                return self.layers[i][1], i == len(self.layers) - 1
        return None, False

    @property
    def newest(self):
        return self.layers[-1][1]


def load_union(sources):
    union = {}
    for index, source in enumerate(sources):
        for m in ks.load_schemas(source).values():
            ref = union.setdefault(m.identity(), Reference(m.identity()))
            ref.layers.append((index, m))
    return union


def load_defs(defs_dir):
    """Every definition in defs_dir by identity, plus the format errors found."""
    defined, errors = {}, []
    for path in sorted(glob.glob(os.path.join(defs_dir, '*.kwdef'))):
        df = ks.parse_defs_file(path, os.path.basename(path))
        errors += df.errors
        for m in df.messages:
            defined[m.identity()] = m
    return defined, errors


# ---------------------------------------------------------------------------
# Comparison

DESCRIPTIVE = ('default is', 'ignorable is')


def compare(d, ref):
    """{version: [difference]} for the versions ref defines, 'missing' for those d lacks."""
    result = {}
    have = d.version_set() if d is not None else set()
    for v in sorted(ref.versions()):
        if v not in have:
            result[v] = 'missing'
            continue
        r, newest = ref.at(v)
        diffs = ks.compare_version(d, r, v)
        if not newest:
            # Defaults and ignorable flags are one per field: an older source's
            # differing ones are superseded by the newest's.
            diffs = [t for t in diffs if not any(': %s ' % w in t for w in DESCRIPTIVE)]
        if diffs:
            result[v] = diffs
    return result


def describe(ref):
    m = ref.newest
    if m.number is not None:
        return '%s (%s %d)' % (m.name, 'key' if m.kind != 'record' else 'record type', m.number)
    return m.name


def report(union, defined, quiet=False, out=sys.stdout):
    """Prints the report; returns (versions checked, missing, different, results)."""
    checked = missing = different = 0
    results = {}
    for identity in sorted(union, key=lambda i: (i[0], str(i[1]).zfill(6))):
        ref = union[identity]
        d = defined.get(identity)
        res = compare(d, ref)
        results[identity] = res
        checked += len(ref.versions())
        gone = sorted(v for v, r in res.items() if r == 'missing')
        diff = {v: r for v, r in res.items() if r != 'missing'}
        missing += len(gone)
        different += len(diff)
        if not ref.versions() and not quiet:
            print('%s: validVersions none in every source, nothing to check' % describe(ref),
                  file=out)
        if gone:
            what = 'not defined' if d is None else 'lacks v%s' % ks.version_list(gone)
            print('MISSING %s: %s (reference v%s)' %
                  (describe(ref), what, ks.version_list(sorted(ref.versions()))), file=out)
        merged = {}
        for v, texts in diff.items():
            for t in texts:
                merged.setdefault(t, []).append(v)
        for t, vs in merged.items():
            print('DIFFERS %s v%s: %s' % (describe(ref), ks.version_list(vs), t), file=out)
    return checked, missing, different, results


# ---------------------------------------------------------------------------
# Writing: a merged model rendered in the project's format

class Node:
    """A field with version sets, the shape the writer renders."""

    def __init__(self, name, typ, versions, null, tagged, tag, default, ignorable, flex_none):
        self.name, self.type = name, typ
        self.versions, self.null, self.tagged = versions, null, tagged
        self.tag, self.default = tag, default
        self.ignorable, self.flex_none = ignorable, flex_none
        self.children = None


def vset(text, hi):
    """A version text as a set, open ranges closed at hi."""
    if text is None or text == 'none':
        return set()
    r = ks.Versions(text)
    top = r.hi if r.hi is not None else hi
    return set(range(r.lo, top + 1))


def vtext(versions, hi):
    """A version set as text; ValueError when it is not one range."""
    if not versions:
        return 'none'
    lo, top = min(versions), max(versions)
    if len(versions) != top - lo + 1:
        raise ValueError('versions %s are not one range' % ks.version_list(sorted(versions)))
    if top == hi:
        return '%d+' % lo
    return str(lo) if lo == top else '%d-%d' % (lo, top)


def nodes_from(fields, hi, only=None):
    """Fields as nodes; `only` restricts every set to those versions (new ones)."""
    out = []
    for f in fields or []:
        keep = (lambda s: s & only) if only is not None else (lambda s: s)
        n = Node(f.name, f.type, keep(vset(f.versions, hi)), keep(vset(f.null, hi)),
                 keep(vset(f.tagged, hi)), f.tag, f.default, f.ignorable, f.flex_none)
        if f.children is not None:
            n.children = nodes_from(f.children, hi, only)
        out.append(n)
    return out


def merge_nodes(dnodes, rfields, new, hi, where, conflicts):
    """Adds the reference's fields in the new versions to the definition's nodes."""
    by_name = {n.name: n for n in dnodes}
    last = -1
    for f in rfields or []:
        present = vset(f.versions, hi) & new
        n = by_name.get(f.name)
        if n is None:
            if not present:
                continue
            n = nodes_from([f], hi, new)[0]
            dnodes.insert(last + 1, n)
            by_name[n.name] = n
            last += 1
            continue
        last = dnodes.index(n)
        if not present:
            continue
        if n.type != f.type:
            conflicts.append('%s.%s: type %s, reference has %s' % (where, f.name, n.type, f.type))
            continue
        if n.tagged and f.tag is not None and n.tag != f.tag:
            conflicts.append('%s.%s: tag %s, reference has %s' % (where, f.name, n.tag, f.tag))
        n.versions |= present
        n.null |= vset(f.null, hi) & new
        n.tagged |= vset(f.tagged, hi) & new
        if f.tag is not None:
            n.tag = f.tag
        if f.children is not None:
            if n.children is None:
                conflicts.append('%s.%s: a struct block here, inline in the reference' %
                                 (where, f.name))
            else:
                merge_nodes(n.children, f.children, new, hi, where + '.' + f.name, conflicts)


def merged_message(d, ref, conflicts):
    """(header fields, root nodes, struct blocks, versions) of d extended by ref's new
    versions; d is None for a message the definitions lack."""
    want = ref.versions() | (d.version_set() if d is not None else set())
    hi = max(want)
    lo = min(want)
    if len(want) != hi - lo + 1:
        conflicts.append('%s: versions %s are not one range' %
                         (ref.newest.name, ks.version_list(sorted(want))))
    new = want - (d.version_set() if d is not None else set())
    if d is not None:
        dhi = max(d.version_set())
        root = nodes_from(d.fields, dhi)
        blocks = {name: nodes_from(fs, dhi) for name, fs in d.structs.items()}
        flex = vset(d.flexible, dhi)
    else:
        root, blocks, flex = [], {}, set()
    # Newest source last, so its field order and attributes win for its versions.
    for _, r in ref.layers:
        mine = {v for v in new if ref.at(v)[0] is r}
        if not mine:
            continue
        merge_nodes(root, r.fields, mine, hi, r.name, conflicts)
        for name, fs in r.structs.items():
            merge_nodes(blocks.setdefault(name, []), fs, mine, hi, r.name + '.' + name,
                        conflicts)
        flex |= vset(r.flexible, max(r.version_set())) & mine
        # Descriptive attributes follow the newest source that has the field.
        refresh_descriptive(root, r.fields)
        for name, fs in r.structs.items():
            refresh_descriptive(blocks[name], fs)
    if flex and max(flex) != hi:
        conflicts.append('%s: flexible versions %s do not reach the newest' %
                         (ref.newest.name, ks.version_list(sorted(flex))))
    flexible = '%d+' % min(flex) if flex else 'none'
    return root, blocks, '%d-%d' % (lo, hi) if lo != hi else str(lo), flexible, hi


def refresh_descriptive(nodes, rfields):
    by_name = {n.name: n for n in nodes}
    for f in rfields or []:
        n = by_name.get(f.name)
        if n is None:
            continue
        n.default, n.ignorable, n.flex_none = f.default, f.ignorable, f.flex_none
        if f.children is not None and n.children is not None:
            refresh_descriptive(n.children, f.children)


def field_tokens(n, hi):
    tokens = [vtext(n.versions, hi)]
    if n.null:
        tokens.append('null=' + vtext(n.null, hi))
    if n.tagged:
        tokens.append('tag=%d tagged=%s' % (n.tag, vtext(n.tagged, hi)))
    if n.default is not None:
        tokens.append('default=' + n.default)
    if n.ignorable:
        tokens.append('ignorable')
    if n.flex_none:
        tokens.append('flexible=none')
    return tokens


def render_fields(nodes, hi, depth=1):
    rows = []
    for n in nodes:
        rows.append(('  ' * depth + n.name, n.type, field_tokens(n, hi)))
        if n.children is not None:
            rows += render_fields(n.children, hi, depth + 1)
    return rows


def aligned(rows):
    """Field rows in the files' layout: name, type and versions in columns."""
    if not rows:
        return []
    w1 = max(len(r[0]) for r in rows)
    w2 = max(len(r[1]) for r in rows)
    w3 = max(len(r[2][0]) for r in rows)
    out = []
    for name, typ, tokens in rows:
        line = name.ljust(w1 + 2) + typ.ljust(w2 + 2) + tokens[0]
        if len(tokens) > 1:
            line = line.ljust(w1 + w2 + w3 + 6) + '  '.join(tokens[1:])
        out.append(line.rstrip())
    return out


def render_message(head, root, blocks, hi):
    lines = [head] + aligned(render_fields(root, hi))
    for name in sorted(blocks):
        lines += ['', 'struct ' + name] + aligned(render_fields(blocks[name], hi))
    return lines


def head_line(m, versions, flexible):
    if m.kind in ('request', 'response'):
        return '%s %s flexible %s' % (m.kind, versions, flexible)
    if m.kind == 'record':
        return 'record %s %d %s flexible %s' % (m.name, m.number, versions, flexible)
    return '%s %s %s flexible %s' % (m.kind, m.name, versions, flexible)


def write(union, defined, results, defs_dir, out=sys.stdout):
    """Writes every message with missing versions; returns the conflicts left for review."""
    conflicts = []
    edits = {}                           # path -> [(first, last, lines)]
    new_files = {}                       # path -> {kind: lines}
    appended = {}                        # path -> [lines]
    for identity, res in results.items():
        if not any(r == 'missing' for r in res.values()):
            continue
        ref = union[identity]
        d = defined.get(identity)
        mine = []
        root, blocks, versions, flexible, hi = merged_message(d, ref, mine)
        conflicts += mine
        if mine:
            continue
        lines = render_message(head_line(d or ref.newest, versions, flexible), root, blocks, hi)
        if d is not None:
            edits.setdefault(d.path, []).append((d.lines[0], d.lines[1], lines))
        elif identity[0] in ('request', 'response'):
            m = ref.newest
            api = m.name[:-len('Request')] if m.kind == 'request' else m.name[:-len('Response')]
            path = os.path.join(defs_dir, '%02d_%s.kwdef' % (m.number, ks.snake(api)))
            new_files.setdefault(path, {'api': (m.number, api)})[m.kind] = lines
        else:
            target = {'record': 'metadata_records.kwdef', 'header': 'headers.kwdef'}.get(
                identity[0], 'imported.kwdef')
            appended.setdefault(os.path.join(defs_dir, target), []).append(lines)
    for path, blocks_here in edits.items():
        with open(path, encoding='utf-8') as fh:
            text = fh.read().split('\n')
        for first, last, lines in sorted(blocks_here, reverse=True):
            text[first - 1:last] = lines
        with open(path, 'w', encoding='utf-8') as fh:
            fh.write('\n'.join(text))
        print('wrote %s (%d message%s extended)' %
              (path, len(blocks_here), '' if len(blocks_here) == 1 else 's'), file=out)
    for path, parts in new_files.items():
        key, api = parts['api']
        text = ['# %s: imported from Kafka\'s schemas; review before committing.' % api, '',
                'api %d %s' % (key, api), '']
        for kind in ('request', 'response'):
            if kind in parts:
                text += parts[kind] + ['']
        with open(path, 'w', encoding='utf-8') as fh:
            fh.write('\n'.join(text[:-1]) + '\n')
        print('wrote %s (new)' % path, file=out)
    for path, messages in appended.items():
        exists = os.path.exists(path)
        with open(path, 'a', encoding='utf-8') as fh:
            if not exists:
                fh.write('# Imported from Kafka\'s schemas; review before committing.\n')
            for lines in messages:
                fh.write('\n' + '\n'.join(lines) + '\n')
        print('wrote %s (%d message%s added)' %
              (path, len(messages), '' if len(messages) == 1 else 's'), file=out)
    return conflicts


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('sources', nargs='+', metavar='SOURCE',
                    help='a directory of Kafka JSON schemas or a jar holding them, oldest first')
    ap.add_argument('--defs', default=os.path.join(here, '..', 'defs'),
                    help='the definitions directory (default: lib/defs)')
    ap.add_argument('--write', action='store_true',
                    help='write the missing messages and versions into the definitions')
    ap.add_argument('--quiet', action='store_true', help='print only problems and the summary')
    args = ap.parse_args(argv[1:])
    try:
        union = load_union(args.sources)
    except (ValueError, KeyError, OSError) as e:
        print('kwimport: %s' % e, file=sys.stderr)
        return 2
    defined, errors = load_defs(args.defs)
    for e in errors:
        print('kwimport: %s' % e, file=sys.stderr)
    if errors:
        return 2
    checked, missing, different, results = report(union, defined, args.quiet)
    print('kwimport: %d messages, %d versions checked: %d missing, %d different' %
          (len(union), checked, missing, different))
    if args.write and missing:
        conflicts = write(union, defined, results, args.defs)
        for c in conflicts:
            print('CONFLICT %s (not written)' % c)
    return 1 if missing or different else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
