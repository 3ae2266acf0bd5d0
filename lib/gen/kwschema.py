"""Kafka's JSON message schemas and kwire's .kwdef definitions, read into one model.

Shared by the importer (lib/gen/kwimport.py) and the definitions check
(tests/check_defs.py). The .kwdef files are read here by a strict parser of their
own, not by the generator, so a generator bug cannot hide behind the same reading.
Kafka's schemas are read from a directory (searched recursively: a Kafka source
tree, a folder of schema files) or from a jar (kafka-clients' common/message,
kafka-metadata's common/metadata). Standard library only.
"""

import glob
import json
import os
import re
import zipfile


PRIMITIVES = {'bool', 'int8', 'int16', 'uint16', 'int32', 'int64', 'float64', 'uuid',
              'string', 'bytes', 'records'}


# ---------------------------------------------------------------------------
# Shared rules

def snake(name):
    """CamelCase -> snake_case, the rule the definitions follow.

    A word starts at a capital that follows a lower-case letter or a digit, and at
    the last capital of a run when a lower-case letter follows it (so "ACLs" stays
    one word and "HTTPServer" becomes http_server). Digits stay with the word before
    them (V3AndBelow -> v3_and_below). "KRaft" is one word (kraft).
    """
    s = name.replace('KRaft', 'Kraft')
    s = re.sub(r'(?<=[a-z0-9])(?=[A-Z])', '_', s)
    s = re.sub(r'(?<=[A-Z])(?=[A-Z][a-z])', '_', s)
    return s.lower()


VERSIONS_RE = r'(?:none|\d+\+|\d+-\d+|\d+)'


class Versions:
    """A version range as written: none, N+, A-B or N."""

    def __init__(self, text):
        if not re.fullmatch(VERSIONS_RE, text):
            raise ValueError('bad version range %r' % text)
        self.text = text
        if text == 'none':
            self.lo, self.hi = 1, 0
        elif text.endswith('+'):
            self.lo, self.hi = int(text[:-1]), None
        elif '-' in text:
            lo, hi = text.split('-')
            self.lo, self.hi = int(lo), int(hi)
        else:
            self.lo = self.hi = int(text)

    def __contains__(self, v):
        return v >= self.lo and (self.hi is None or v <= self.hi)

    def listed(self):
        if self.hi is None:
            raise ValueError('open range %r has no list' % self.text)
        return list(range(self.lo, self.hi + 1))


def versions_or_none(text):
    return Versions(text) if text is not None else Versions('none')


def is_struct_type(typ):
    base = typ[2:] if typ.startswith('[]') else typ
    return base not in PRIMITIVES


def base_type(typ):
    return typ[2:] if typ.startswith('[]') else typ


class Field:
    def __init__(self, name, typ, versions, null, tag, tagged, default, ignorable,
                 flex_none, where):
        self.name = name
        self.type = typ
        self.versions = versions          # text as written
        self.null = null                  # text or None
        self.tag = tag                    # int or None
        self.tagged = tagged              # text or None
        self.default = default            # normalised text or None
        self.ignorable = ignorable
        self.flex_none = flex_none
        self.children = None              # list of Field for an inline struct
        self.where = where

    def written(self):
        return (self.name, self.type, self.versions, self.null, self.tag, self.tagged,
                self.default, self.ignorable, self.flex_none)


class Message:
    def __init__(self, kind, name, versions, flexible, number, where):
        self.kind = kind                  # request response header data record
        self.name = name                  # ProduceRequest, RequestHeader, TopicRecord
        self.versions = versions
        self.flexible = flexible
        self.number = number              # API key or record type, else None
        self.fields = []
        self.structs = {}                 # struct blocks / commonStructs by name
        self.where = where
        self.path = None                  # the .kwdef file, for the definition side
        self.lines = None                 # (first, last) line numbers of its block there

    def identity(self):
        """What names the message on the wire: API key for requests and responses,
        record type for KRaft records, the name otherwise (Kafka 4 renamed key 74)."""
        if self.kind in ('request', 'response', 'record'):
            return (self.kind, self.number)
        return (self.kind, self.name)

    def version_set(self):
        return set(Versions(self.versions).listed()) if self.versions != 'none' else set()


# ---------------------------------------------------------------------------
# Reference side: Kafka's JSON schemas

def strip_json_comments(text):
    """Drop // line comments outside string literals ("http://..." stays)."""
    out = []
    i, n = 0, len(text)
    in_string = False
    while i < n:
        c = text[i]
        if in_string:
            out.append(c)
            if c == '\\' and i + 1 < n:
                out.append(text[i + 1])
                i += 2
                continue
            if c == '"':
                in_string = False
            i += 1
        elif c == '"':
            in_string = True
            out.append(c)
            i += 1
        elif text.startswith('//', i):
            while i < n and text[i] != '\n':
                i += 1
        elif text.startswith('/*', i):
            end = text.find('*/', i + 2)
            if end < 0:
                raise ValueError('unterminated /* comment')
            i = end + 2
        else:
            out.append(c)
            i += 1
    return ''.join(out)


def ref_default(value):
    if value is None:
        return None
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, int):
        return str(value)
    if value == '':
        return "''"
    return str(value)


def ref_fields(items, where):
    fields = []
    for item in items:
        tag = item.get('tag')
        f = Field(snake(item['name']), item['type'], item['versions'],
                  item.get('nullableVersions'),
                  int(tag) if tag is not None else None,
                  item.get('taggedVersions'),
                  ref_default(item.get('default')),
                  item.get('ignorable') is True,
                  item.get('flexibleVersions') == 'none',
                  where)
        if 'flexibleVersions' in item and item['flexibleVersions'] != 'none':
            raise ValueError('%s: field %s has flexibleVersions %r' %
                             (where, item['name'], item['flexibleVersions']))
        if 'fields' in item:
            f.children = ref_fields(item['fields'], where)
        fields.append(f)
    return fields


KIND_OF = {'request': 'request', 'response': 'response', 'header': 'header',
           'data': 'data', 'metadata': 'record'}


def schema_from_json(text, where):
    """One schema file's text -> Message, or None for a file that is not a message schema."""
    doc = json.loads(strip_json_comments(text))
    if not isinstance(doc, dict) or doc.get('type') not in KIND_OF or 'name' not in doc:
        return None
    kind = KIND_OF[doc['type']]
    number = doc.get('apiKey') if kind in ('request', 'response', 'record') else None
    # Kafka 4 keeps files of removed APIs with validVersions "none" and no flexibleVersions.
    m = Message(kind, doc['name'], doc['validVersions'], doc.get('flexibleVersions', 'none'),
                number, where)
    m.fields = ref_fields(doc.get('fields', []), where)
    for s in doc.get('commonStructs', []):
        m.structs[s['name']] = ref_fields(s['fields'], where)
    return m


def schema_texts(source):
    """(shown name, text) of every *.json under a directory, or in a jar or zip file."""
    if os.path.isfile(source):
        with zipfile.ZipFile(source) as z:
            for name in sorted(z.namelist()):
                if name.endswith('.json'):
                    yield '%s!%s' % (os.path.basename(source), name), z.read(name).decode('utf-8')
        return
    if not os.path.isdir(source):
        raise ValueError('%s: neither a directory nor a jar' % source)
    paths = sorted(glob.glob(os.path.join(source, '**', '*.json'), recursive=True))
    for path in paths:
        rel = os.path.relpath(path, source)
        if re.search(r'(^|/)(build|test)/', rel):
            continue                  # a source tree's build output and test resources
        with open(path, encoding='utf-8') as fh:
            yield rel, fh.read()


def load_schemas(*sources):
    """Every message schema in the sources, by name. A name twice is an error."""
    messages = {}
    for source in sources:
        for shown, text in schema_texts(source):
            try:
                m = schema_from_json(text, os.path.basename(shown))
            except ValueError as e:
                raise ValueError('%s: %s' % (shown, e))
            if m is None:
                continue
            if m.name in messages:
                raise ValueError('two schemas named %s (%s, %s)' %
                                 (m.name, messages[m.name].where, m.where))
            messages[m.name] = m
    return messages


# ---------------------------------------------------------------------------
# Definition side: the .kwdef files, read strictly

NAME_RE = r'[a-z][a-z0-9]*(?:_[a-z0-9]+)*'
TYPE_RE = r'(?:\[\])?(?:[A-Z][A-Za-z0-9]*|' + '|'.join(sorted(PRIMITIVES)) + r')'
FIELD_RE = re.compile(
    r'(?P<indent>(?:  )+)(?P<name>' + NAME_RE + r') +(?P<type>' + TYPE_RE + r') +'
    r'(?P<versions>' + VERSIONS_RE + r')'
    r'(?: +null=(?P<null>' + VERSIONS_RE + r'))?'
    r'(?: +tag=(?P<tag>\d+) +tagged=(?P<tagged>' + VERSIONS_RE + r'))?'
    r'(?: +default=(?P<default>\'\'|[^\s\']+))?'
    r'(?P<ignorable> +ignorable)?'
    r'(?P<flexnone> +flexible=none)?')
FLEX_RE = r'(?P<flex>none|\d+\+)'
API_RE = re.compile(r'api (?P<key>\d+) (?P<name>[A-Z][A-Za-z0-9]*)')
REQRESP_RE = re.compile(r'(?P<kind>request|response) (?P<versions>' + VERSIONS_RE +
                        r') flexible ' + FLEX_RE)
NAMED_RE = re.compile(r'(?P<kind>header|data) (?P<name>[A-Z][A-Za-z0-9]*) (?P<versions>' +
                      VERSIONS_RE + r') flexible ' + FLEX_RE)
RECORD_RE = re.compile(r'record (?P<name>[A-Z][A-Za-z0-9]*) (?P<number>\d+) (?P<versions>' +
                       VERSIONS_RE + r') flexible ' + FLEX_RE)
STRUCT_RE = re.compile(r'struct (?P<name>[A-Z][A-Za-z0-9]*)')


class DefsFile:
    def __init__(self, path):
        self.path = path
        self.messages = []
        self.errors = []
        self.api = None                   # (key, name)


def parse_defs_file(path, shown):
    """Parse one file. Problems go to .errors; a bad line is reported and skipped."""
    df = DefsFile(path)
    with open(path, encoding='utf-8') as fh:
        raw_lines = fh.read().split('\n')
    if raw_lines and raw_lines[-1] == '':
        raw_lines.pop()
    else:
        df.errors.append('%s: does not end with a newline' % shown)

    def err(lineno, text):
        df.errors.append('%s:%d: %s' % (shown, lineno, text))

    if not raw_lines or not raw_lines[0].startswith('# ') or len(raw_lines[0]) < 4:
        err(1, 'the file must start with a one-line "# ..." comment')

    message = None       # current Message
    container = None     # list the depth-1 fields go into (message or struct block)
    stack = []           # stack[d-1] = last field at depth d
    for lineno, raw in enumerate(raw_lines, 1):
        where = '%s:%d' % (shown, lineno)
        if '\t' in raw:
            err(lineno, 'tab character')
            continue
        if raw != raw.rstrip():
            err(lineno, 'trailing whitespace')
            continue
        line = raw.split('#', 1)[0].rstrip()
        if not line:
            continue
        if message is not None and (line[0] == ' ' or line.startswith('struct ')):
            message.lines[1] = lineno
        if line[0] != ' ':
            stack = []
            container = None     # fields below a line that does not parse are orphans
            m = API_RE.fullmatch(line)
            if m:
                if df.api is not None or df.messages:
                    err(lineno, 'the api line must come first and only once')
                df.api = (int(m.group('key')), m.group('name'))
                message = container = None
                continue
            m = REQRESP_RE.fullmatch(line)
            if m:
                kind = m.group('kind')
                if df.api is None:
                    err(lineno, '%s without an api line above it' % kind)
                    continue
                want = ['request', 'response'][len(df.messages)] if len(df.messages) < 2 else None
                if kind != want:
                    err(lineno, 'expected %s here, found %s' % (want or 'nothing more', kind))
                    continue
                message = Message(kind, df.api[1] + kind.capitalize(), m.group('versions'),
                                  m.group('flex'), df.api[0], where)
                message.path, message.lines = path, [lineno, lineno]
                df.messages.append(message)
                container = message.fields
                continue
            m = NAMED_RE.fullmatch(line) or RECORD_RE.fullmatch(line)
            if m:
                if df.api is not None:
                    err(lineno, 'header/data/record messages do not belong in an api file')
                    continue
                kind = 'record' if line.startswith('record ') else m.group('kind')
                number = int(m.group('number')) if kind == 'record' else None
                message = Message(kind, m.group('name'), m.group('versions'), m.group('flex'),
                                  number, where)
                message.path, message.lines = path, [lineno, lineno]
                df.messages.append(message)
                container = message.fields
                continue
            m = STRUCT_RE.fullmatch(line)
            if m:
                if message is None:
                    err(lineno, 'struct block without a message above it')
                    continue
                name = m.group('name')
                if name in message.structs:
                    err(lineno, 'struct %s defined twice in %s' % (name, message.name))
                message.structs[name] = container = []
                continue
            err(lineno, 'not a message, api or struct line: %r' % line)
            continue

        # a field line
        m = FIELD_RE.fullmatch(line)
        if not m:
            err(lineno, 'field line does not parse: %r' % line.strip())
            continue
        if container is None:
            err(lineno, 'field outside any message or struct block')
            continue
        depth = len(m.group('indent')) // 2
        if depth > len(stack) + 1:
            err(lineno, 'indented %d levels below the line above' % (depth - len(stack)))
            continue
        if depth > 1:
            parent = stack[depth - 2]
            if not is_struct_type(parent.type):
                err(lineno, 'indented under %s, whose type %s is not a struct' %
                    (parent.name, parent.type))
                continue
        f = Field(m.group('name'), m.group('type'), m.group('versions'), m.group('null'),
                  int(m.group('tag')) if m.group('tag') is not None else None,
                  m.group('tagged'), m.group('default'), m.group('ignorable') is not None,
                  m.group('flexnone') is not None, where)
        if depth == 1:
            siblings = container
        else:
            parent = stack[depth - 2]
            if parent.children is None:
                parent.children = []
            siblings = parent.children
        if any(s.name == f.name for s in siblings):
            err(lineno, 'field %s appears twice in the same struct' % f.name)
        siblings.append(f)
        del stack[depth - 1:]
        stack.append(f)

    if df.api is not None and [x.kind for x in df.messages] != ['request', 'response']:
        df.errors.append('%s: an api file holds exactly one request and one response' % shown)
    if df.api is None and not df.messages:
        df.errors.append('%s: no messages' % shown)
    return df


def check_struct_names(message, errors):
    """Inline struct names are unique in a message and distinct from its struct blocks;
    every struct-typed field without children names a struct block; every block is used."""
    inline = {}
    used = set()

    def walk(fields):
        for f in fields:
            if not is_struct_type(f.type):
                continue
            name = base_type(f.type)
            if f.children is not None:
                if name in inline or name in message.structs:
                    errors.append('%s: struct %s defined more than once in %s' %
                                  (f.where, name, message.name))
                inline[name] = f
                walk(f.children)
            elif name in message.structs:
                used.add(name)
            else:
                errors.append('%s: %s has type %s, but %s has no struct %s' %
                              (f.where, f.name, f.type, message.name, name))

    walk(message.fields)
    for s in message.structs.values():
        walk(s)
    for name in message.structs:
        if name not in used:
            errors.append('%s: struct %s of %s is never used' % (message.where, name, message.name))


# ---------------------------------------------------------------------------
# Comparison, one version at a time

def resolve(field, message):
    if field.children is not None:
        return field.children
    return message.structs.get(base_type(field.type))


def yes_no(flag):
    return 'yes' if flag else 'no'


def compare_fields(dfields, rfields, dmsg, rmsg, version, path, out):
    """Compare the fields present in `version`, in order, recursing into structs.

    Appends (version, text) pairs; compare_message merges equal texts over versions."""
    dpresent = [f for f in dfields if version in Versions(f.versions)]
    rpresent = [f for f in rfields if version in Versions(f.versions)]
    dnames = [f.name for f in dpresent]
    rnames = [f.name for f in rpresent]
    if dnames != rnames:
        out.append((version, '%s: fields are [%s], reference has [%s]' %
                    (path or '(top)', ', '.join(dnames), ', '.join(rnames))))
        return
    for d, r in zip(dpresent, rpresent):
        fpath = (path + '.' if path else '') + d.name

        def diff(what, dv, rv):
            if dv != rv:
                out.append((version, '%s: %s is %s, reference has %s (%s)' %
                            (fpath, what, dv, rv, d.where)))

        diff('type', d.type, r.type)
        diff('nullable', yes_no(version in versions_or_none(d.null)),
             yes_no(version in versions_or_none(r.null)))
        dtagged = version in versions_or_none(d.tagged)
        rtagged = version in versions_or_none(r.tagged)
        diff('tagged', yes_no(dtagged), yes_no(rtagged))
        if dtagged and rtagged:
            diff('tag', d.tag, r.tag)
        diff('default', shown_value(d.default), shown_value(r.default))
        diff('ignorable', yes_no(d.ignorable), yes_no(r.ignorable))
        diff('flexible=none', yes_no(d.flex_none), yes_no(r.flex_none))
        if d.type == r.type and is_struct_type(d.type):
            dsub = resolve(d, dmsg)
            rsub = resolve(r, rmsg)
            if rsub is None:
                out.append((version, '%s: reference struct %s not found' % (fpath, d.type)))
            elif dsub is not None:
                compare_fields(dsub, rsub, dmsg, rmsg, version, fpath, out)


def shown_value(value):
    if value is None:
        return '(absent)'
    if value is True or value is False:
        return yes_no(value)
    return str(value)


def version_list(versions):
    """[0, 1, 2, 5, 7, 8] -> '0-2,5,7-8'"""
    parts = []
    for v in versions:
        if parts and parts[-1][1] == v - 1:
            parts[-1][1] = v
        else:
            parts.append([v, v])
    return ','.join(str(a) if a == b else '%d-%d' % (a, b) for a, b in parts)


def compare_version(d, r, version):
    """Differences of d (definitions) from r (reference) in one version both define,
    as texts: flexibility, then every field present in it, nested structs included."""
    out = []
    if (version in Versions(d.flexible)) != (version in Versions(r.flexible)):
        out.append((version, 'flexible is %s, reference has %s' %
                    (yes_no(version in Versions(d.flexible)),
                     yes_no(version in Versions(r.flexible)))))
    compare_fields(d.fields, r.fields, d, r, version, '', out)
    return [text for _, text in out]
