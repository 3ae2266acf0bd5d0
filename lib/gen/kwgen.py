#!/usr/bin/env python3
"""kwgen: turns kwire's message definitions (lib/defs/*.kwdef, format in
lib/defs/README.md) into C views: typed structs, decoders, array iterators
and the description tables the generic walker follows.

usage: kwgen.py OUT_HEADER OUT_SOURCE DEF_FILE...
Standard library only: meson runs it at build time.
"""
import os
import re
import sys

VMAX = 32767  # "N+" reaches the largest int16 version

PRIMITIVES = {
    # type: (C member type, kw_type, fixed size or None)
    "bool": ("bool", "KW_TYPE_BOOL", 1),
    "int8": ("int8_t", "KW_TYPE_INT8", 1),
    "int16": ("int16_t", "KW_TYPE_INT16", 2),
    "uint16": ("uint16_t", "KW_TYPE_UINT16", 2),
    "int32": ("int32_t", "KW_TYPE_INT32", 4),
    "int64": ("int64_t", "KW_TYPE_INT64", 8),
    "float64": ("double", "KW_TYPE_FLOAT64", 8),
    "uuid": ("kw_uuid", "KW_TYPE_UUID", 16),
    "string": ("kw_slice", "KW_TYPE_STRING", None),
    "bytes": ("kw_slice", "KW_TYPE_BYTES", None),
    "records": ("kw_records", "KW_TYPE_RECORDS", None),
}

SCALAR_READ = {
    "bool": "kw_read_bool",
    "int8": "kw_read_i8",
    "int16": "kw_read_i16",
    "uint16": "kw_read_u16",
    "int32": "kw_read_i32",
    "int64": "kw_read_i64",
    "float64": "kw_read_f64",
    "uuid": "kw_read_uuid",
}

C_KEYWORDS = {
    "auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else",
    "enum", "extern", "float", "for", "goto", "if", "inline", "int", "long", "register",
    "restrict", "return", "short", "signed", "sizeof", "static", "struct", "switch", "typedef",
    "union", "unsigned", "void", "volatile", "while", "bool", "true", "false",
}


class DefError(Exception):
    pass


def parse_versions(text, where):
    if text == "none":
        return (1, 0)
    m = re.fullmatch(r"(\d+)\+", text)
    if m:
        return (int(m.group(1)), VMAX)
    m = re.fullmatch(r"(\d+)-(\d+)", text)
    if m:
        return (int(m.group(1)), int(m.group(2)))
    m = re.fullmatch(r"(\d+)", text)
    if m:
        return (int(m.group(1)), int(m.group(1)))
    raise DefError(f"{where}: bad versions '{text}'")


def snake(name):
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s)
    return s.lower()


NONE = (1, 0)


def intersect(a, b):
    return (max(a[0], b[0]), min(a[1], b[1]))


def empty(r):
    return r[0] > r[1]


class Field:
    def __init__(self, name, typ, versions, where):
        self.name = name
        self.where = where
        self.is_array = typ.startswith("[]")
        self.type = typ[2:] if self.is_array else typ
        self.versions = versions
        self.nullable = NONE
        self.tag = None
        self.tagged = NONE
        self.default = None
        self.ignorable = False
        self.never_flexible = False
        self.children = []
        self.struct = None  # resolved Struct for struct types

    @property
    def is_struct(self):
        return self.type not in PRIMITIVES

    def cname(self):
        return self.name + "_" if self.name in C_KEYWORDS else self.name


class Struct:
    def __init__(self, name, fields):
        self.name = name
        self.fields = fields
        self.cname = None  # set per message


class Message:
    def __init__(self, name, kind, api_key, versions, flexible, where):
        self.name = name
        self.kind = kind
        self.api_key = api_key
        self.versions = versions
        self.flexible = flexible  # first flexible version or None
        self.fields = []
        self.structs = {}  # name -> Struct (inline and shared)
        self.where = where
        self.root = None

    @property
    def csnake(self):
        return snake(self.name)


RESERVED_MEMBERS = {"version_", "tagged_fields", "unused_"}


def parse_field(tokens, where):
    if len(tokens) < 3:
        raise DefError(f"{where}: a field needs name, type and versions")
    name, typ, vers = tokens[:3]
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise DefError(f"{where}: field name '{name}' is not snake_case")
    if name in RESERVED_MEMBERS or name.startswith("has_"):
        raise DefError(f"{where}: field name '{name}' is reserved for generated members")
    if not re.fullmatch(r"(\[\])?[A-Za-z][A-Za-z0-9]*", typ):
        raise DefError(f"{where}: bad type '{typ}'")
    f = Field(name, typ, parse_versions(vers, where), where)
    for attr in tokens[3:]:
        key, _, val = attr.partition("=")
        if key == "null":
            f.nullable = parse_versions(val, where)
        elif key == "tag":
            f.tag = int(val)
        elif key == "tagged":
            f.tagged = parse_versions(val, where)
        elif key == "default":
            f.default = "" if val == "''" else val
        elif attr == "ignorable":
            f.ignorable = True
        elif attr == "flexible=none":
            f.never_flexible = True
        else:
            raise DefError(f"{where}: unknown attribute '{attr}'")
    if (f.tag is None) != empty(f.tagged):
        raise DefError(f"{where}: tag= and tagged= go together")
    return f


def parse_file(path):
    messages = []
    api = None
    current = None  # message whose fields are being read
    stack = []  # (indent, field list)
    with open(path, encoding="utf-8") as fh:
        for lineno, raw in enumerate(fh, 1):
            where = f"{os.path.basename(path)}:{lineno}"
            line = raw.split("#", 1)[0].rstrip()
            if not line.strip():
                continue
            indent = len(line) - len(line.lstrip(" "))
            if indent % 2:
                raise DefError(f"{where}: indentation must be a multiple of two spaces")
            tokens = line.split()
            if indent == 0:
                kw = tokens[0]
                if kw == "api":
                    api = (int(tokens[1]), tokens[2])
                    current = None
                    continue
                if kw == "struct":
                    if current is None:
                        raise DefError(f"{where}: struct outside a message")
                    st = Struct(tokens[1], [])
                    if tokens[1] in current.structs:
                        raise DefError(f"{where}: struct {tokens[1]} defined twice")
                    current.structs[tokens[1]] = st
                    stack = [(0, st.fields)]
                    continue
                if kw in ("request", "response"):
                    if api is None:
                        raise DefError(f"{where}: {kw} before any api line")
                    name = api[1] + kw.capitalize()
                    key, rest = api[0], tokens[1:]
                elif kw in ("header", "data"):
                    name, key, rest = tokens[1], -1, tokens[2:]
                elif kw == "record":
                    name, key, rest = tokens[1], int(tokens[2]), tokens[3:]
                else:
                    raise DefError(f"{where}: unknown line '{kw}'")
                if len(rest) != 3 or rest[1] != "flexible":
                    raise DefError(f"{where}: expected VERSIONS flexible FLEX")
                flex = None if rest[2] == "none" else parse_versions(rest[2], where)[0]
                current = Message(name, kw, key, parse_versions(rest[0], where), flex, where)
                messages.append(current)
                stack = [(0, current.fields)]
                continue
            if current is None:
                raise DefError(f"{where}: field outside a message")
            f = parse_field(tokens, where)
            while stack and stack[-1][0] >= indent:
                stack.pop()
            if not stack or stack[-1][0] != indent - 2:
                raise DefError(f"{where}: field indented under nothing")
            stack[-1][1].append(f)
            stack.append((indent, f.children))
    return messages


def resolve(msg):
    """Registers inline structs and links every struct-typed field to its Struct."""
    def register(fields):
        for f in fields:
            if f.is_struct and f.children:
                if f.type in msg.structs and msg.structs[f.type].fields is not f.children:
                    raise DefError(f"{f.where}: struct {f.type} defined twice in {msg.name}")
                msg.structs[f.type] = Struct(f.type, f.children)
                register(f.children)
    register(msg.fields)
    for st in list(msg.structs.values()):
        register(st.fields)

    def link(fields):
        for f in fields:
            if f.is_struct:
                if f.type not in msg.structs:
                    raise DefError(f"{f.where}: unknown type {f.type}")
                f.struct = msg.structs[f.type]
            elif f.children:
                raise DefError(f"{f.where}: a {f.type} field has no fields under it")
    link(msg.fields)
    for st in msg.structs.values():
        link(st.fields)
    msg.root = Struct(msg.name, msg.fields)
    # kwire/header.h already has hand-written kw_request_header and kw_response_header.
    msg.root.cname = "kw_" + msg.csnake + ("_message" if msg.kind == "header" else "")
    for st in msg.structs.values():
        st.cname = "kw_" + msg.csnake + "_" + snake(st.name)


# ---------------------------------------------------------------------------
# Sizes and conditions


def is_flexible(msg, v):
    return msg.flexible is not None and v >= msg.flexible


def field_flexible(msg, f, v):
    return is_flexible(msg, v) and not f.never_flexible


def min_size(msg, st, v, depth=0):
    """Fewest bytes one instance of st takes in version v."""
    total = 0
    for f in st.fields:
        if not (f.versions[0] <= v <= f.versions[1]):
            continue
        if f.tagged[0] <= v <= f.tagged[1]:
            continue
        flex = field_flexible(msg, f, v)
        if f.is_array:
            total += 1 if flex else 4
        elif f.is_struct:
            nullable = f.nullable[0] <= v <= f.nullable[1]
            total += 1 if nullable else min_size(msg, f.struct, v, depth + 1)
        elif f.type == "string":
            total += 1 if flex else 2
        elif f.type in ("bytes", "records"):
            total += 1 if flex else 4
        else:
            total += PRIMITIVES[f.type][2]
    if is_flexible(msg, v):
        total += 1  # the tagged-field section's count
    return total


def cond(msg, r, var="v"):
    """C condition for version var in range r, simplified against the message's range."""
    lo, hi = max(r[0], msg.versions[0]), min(r[1], msg.versions[1])
    if lo > hi:
        return "0"
    parts = []
    if lo > msg.versions[0]:
        parts.append(f"{var} >= {lo}")
    if hi < msg.versions[1]:
        parts.append(f"{var} <= {hi}")
    return " && ".join(parts) if parts else "1"


def versions_text(r):
    if empty(r):
        return "none"
    if r[1] == VMAX:
        return f"{r[0]}+"
    if r[0] == r[1]:
        return f"{r[0]}"
    return f"{r[0]}-{r[1]}"


def def_line(f):
    typ = ("[]" if f.is_array else "") + f.type
    parts = [f.name, typ, versions_text(f.versions)]
    if not empty(f.nullable):
        parts.append("null=" + versions_text(f.nullable))
    if f.tag is not None:
        parts.append(f"tag={f.tag} tagged={versions_text(f.tagged)}")
    if f.default is not None:
        parts.append("default=" + (f.default if f.default != "" else "''"))
    if f.ignorable:
        parts.append("ignorable")
    if f.never_flexible:
        parts.append("flexible=none")
    return "  ".join(parts)


def choose(msg, f, present, flex_fn, classic_fn):
    """An expression picking the compact or classic reader by version where it varies."""
    if f.never_flexible or msg.flexible is None:
        return classic_fn
    fr = intersect(present, (msg.flexible, VMAX))
    cr = intersect(present, (0, msg.flexible - 1))
    if empty(cr):
        return flex_fn
    if empty(fr):
        return classic_fn
    return None


def nullable_choice(msg, f, present):
    """'always', 'never' or a C condition for nullability within present."""
    nr = intersect(present, f.nullable)
    if empty(nr):
        return "never"
    if nr == intersect(present, msg.versions) or nr[0] <= max(present[0], msg.versions[0]) and nr[1] >= min(present[1], msg.versions[1]):
        return "always"
    return cond(msg, f.nullable)


SLICE_READERS = {
    # type: (classic, classic nullable, compact, compact nullable)
    "string": ("kw_read_string", "kw_read_nullable_string", "kw_read_compact_string",
               "kw_read_compact_nullable_string"),
    "bytes": ("kw_read_bytes", "kw_read_nullable_bytes", "kw_read_compact_bytes",
              "kw_read_compact_nullable_bytes"),
    "records": ("kw_read_records", "kw_read_records", "kw_read_compact_records",
                "kw_read_compact_records"),
}

COUNT_READERS = ("kw_read_array", "kw_read_nullable_array", "kw_read_compact_array",
                 "kw_read_compact_nullable_array")


def reader_expr(msg, f, present, readers, args, flexvar="flex"):
    """C expression calling the right one of four readers (or writers) for field f."""
    nul = nullable_choice(msg, f, present)

    def pick(compact):
        base = 2 if compact else 0
        if nul == "always":
            return f"{readers[base + 1]}({args})"
        if nul == "never":
            return f"{readers[base]}({args})"
        return f"({nul} ? {readers[base + 1]}({args}) : {readers[base]}({args}))"

    if f.never_flexible or msg.flexible is None:
        return pick(False)
    fr = intersect(present, (msg.flexible, VMAX))
    cr = intersect(present, (0, msg.flexible - 1))
    if empty(intersect(cr, msg.versions)):
        return pick(True)
    if empty(intersect(fr, msg.versions)):
        return pick(False)
    return f"({flexvar} ? {pick(True)} : {pick(False)})"


# ---------------------------------------------------------------------------
# Emission


class Out:
    def __init__(self):
        self.lines = []

    def __call__(self, s=""):
        self.lines.append(s)

    def text(self):
        return "\n".join(self.lines) + "\n"


def ordered_structs(msg):
    """Structs of msg in an order where every inline member type comes first."""
    seen, order = set(), []

    def visit(st):
        if st.name in seen:
            return
        seen.add(st.name)
        for f in st.fields:
            if f.is_struct:
                visit(f.struct)
        order.append(st)
    for st in msg.structs.values():
        visit(st)
    return order


def member_decl(f):
    if f.is_array:
        return "kw_array"
    if f.is_struct:
        return f.struct.cname
    return PRIMITIVES[f.type][0]


def has_presence(f):
    return f.is_struct and not f.is_array and (not empty(f.nullable) or f.tag is not None)


def emit_struct_typedef(h, msg, st, is_root):
    h(f"/* {st.name} */")
    h(f"typedef struct {st.cname} {{")
    if is_root:
        h("    int16_t version_; /* the version it was decoded as */")
    for f in st.fields:
        h(f"    {member_decl(f)} {f.cname()}; /* {def_line(f)} */")
        if has_presence(f):
            h(f"    bool has_{f.name}; /* false when {f.name} is null or absent */")
    if msg.flexible is not None:
        h("    kw_tagged_fields tagged_fields; /* the raw section, known tags included */")
    if not st.fields and msg.flexible is None and not is_root:
        h("    char unused_; /* no fields in any version */")
    h(f"}} {st.cname};")
    h()


def default_stmt(f, member):
    """Statement giving a scalar or string member its non-zero default, or None."""
    d = f.default
    if f.type in ("string", "bytes", "records"):
        if d is None or d == "":
            if f.type == "records":
                return f"{member} = kw_records_of(kw_empty_slice_());"
            return f"{member} = kw_empty_slice_();"
        raise DefError(f"{f.where}: string default other than '' or null")
    if d is None:
        return None
    if f.type == "bool":
        return f"{member} = true;" if d == "true" else None
    if f.type in ("int8", "int16", "uint16", "int32", "int64"):
        v = int(d, 0)
        if v == 0:
            return None
        ctype = PRIMITIVES[f.type][0]
        if v == -2147483648:
            return f"{member} = INT32_MIN;"
        return f"{member} = ({ctype}){v};"
    if f.type == "float64":
        return f"{member} = {float(d)!r};" if float(d) != 0 else None
    raise DefError(f"{f.where}: default for {f.type}")


def init_stmt(f, member):
    """A statement giving member its default value, every byte of it."""
    if f.is_array:
        return f"{member} = kw_array_of(NULL, {-1 if f.default == 'null' else 0});"
    if f.is_struct or f.type == "uuid":
        return f"memset(&{member}, 0, sizeof {member});"
    if f.type in ("string", "bytes", "records"):
        if f.default == "null":
            if f.type == "records":
                return f"{member} = kw_records_of(kw_null_slice_());"
            return f"{member} = kw_null_slice_();"
        return default_stmt(f, member)
    d = default_stmt(f, member)
    if d:
        return d
    return f"{member} = {'false' if f.type == 'bool' else '0'};"


def emit_struct_init(c, msg, st, is_root):
    """kw_<struct>_init: every field at its definition's default, whatever the version."""
    c(f"void {st.cname}_init({st.cname} *o)")
    c("{")
    c("    memset(o, 0, sizeof *o);")
    if is_root:
        c(f"    o->version_ = {msg.versions[0]};")
    for f in st.fields:
        m = f"o->{f.cname()}"
        if f.is_struct and not f.is_array:
            c(f"    {f.struct.cname}_init(&{m});")
            if has_presence(f):
                # Kafka's default for a struct is an instance, unless it says null; a
                # tagged struct at its default is not sent
                present = f.default != "null" and f.tag is None
                c(f"    o->has_{f.name} = {'true' if present else 'false'};")
            continue
        # the memset wrote zero: only a non-zero default needs a statement
        if f.is_array:
            stmt = init_stmt(f, m) if f.default == "null" else None
        elif f.type in ("string", "bytes", "records"):
            stmt = init_stmt(f, m)
        elif f.type == "uuid":
            stmt = None
        else:
            stmt = default_stmt(f, m)
        if stmt:
            c(f"    {stmt}")
    if msg.flexible is not None:
        c("    o->tagged_fields = kw_no_tagged_fields_();")
    c("}")
    c()


def emit_field_read(c, msg, st, f, present, ind, rvar="r"):
    """Statements reading field f (in line or from a tag reader)."""
    m = f"o->{f.cname()}"
    pad = " " * ind
    if f.is_array:
        elem_type = PRIMITIVES[f.type][1] if not f.is_struct else "KW_TYPE_STRUCT"
        if f.is_struct:
            min_expr = f"{f.struct.cname}_min_size[v]"
        elif PRIMITIVES[f.type][2]:
            min_expr = str(PRIMITIVES[f.type][2])
        else:
            min_expr = reader_min_string(msg, f, present)
        count = reader_expr(msg, f, present, COUNT_READERS, f"{rvar}, {min_expr}")
        flex_expr = "0" if f.never_flexible or msg.flexible is None else "flex"
        c(f"{pad}{m} = kw_array_begin_({rvar}, {count}, v, {flex_expr}, {elem_type});")
        if f.is_struct:
            c(f"{pad}for (int32_t i = 0; i < {m}.count && kw_reader_ok({rvar}); i++) {{")
            c(f"{pad}    {f.struct.cname} e;")
            c(f"{pad}    {f.struct.cname}_read({rvar}, v, &e);")
            c(f"{pad}}}")
        else:
            c(f"{pad}kw_array_skip_elements_({rvar}, &{m});")
        c(f"{pad}kw_array_end_({rvar}, &{m});")
        return
    if f.is_struct:
        nul = nullable_choice(msg, f, present)
        if nul == "never":
            c(f"{pad}{f.struct.cname}_read({rvar}, v, &{m});")
            if has_presence(f):
                c(f"{pad}o->has_{f.name} = true;")
        else:
            test = f"kw_read_i8({rvar}) >= 0" if nul == "always" else f"!({nul}) || kw_read_i8({rvar}) >= 0"
            c(f"{pad}o->has_{f.name} = {test};")
            c(f"{pad}if (o->has_{f.name})")
            c(f"{pad}    {f.struct.cname}_read({rvar}, v, &{m});")
            c(f"{pad}else")
            c(f"{pad}    memset(&{m}, 0, sizeof {m});")
        return
    if f.type == "records":
        c(f"{pad}{m} = kw_records_of({reader_expr(msg, f, present, SLICE_READERS[f.type], rvar)});")
        return
    if f.type in SLICE_READERS:
        c(f"{pad}{m} = {reader_expr(msg, f, present, SLICE_READERS[f.type], rvar)};")
        return
    c(f"{pad}{m} = {SCALAR_READ[f.type]}({rvar});")


def reader_min_string(msg, f, present):
    ch = choose(msg, f, present, "1", "2")
    return ch if ch is not None else "(flex ? 1 : 2)"


def emit_struct_reader(c, msg, st, is_root):
    c(f"static void {st.cname}_read(kw_reader *r, int16_t v, {st.cname} *o)")
    c("{")
    uses_flex = msg.flexible is not None
    if uses_flex:
        c(f"    const bool flex = v >= {msg.flexible};")
    if is_root:
        c("    o->version_ = v;")
    for f in st.fields:
        # Every member is written below; only a field that some version lacks (or
        # sends as a tag) needs its default first. No memset of the whole view.
        always = (f.versions[0] <= msg.versions[0] and f.versions[1] >= msg.versions[1]
                  and empty(intersect(f.tagged, msg.versions)))
        if not always:
            c(f"    {init_stmt(f, f'o->{f.cname()}')}")
            if has_presence(f):
                c(f"    o->has_{f.name} = false;")
    tagged_fields = [f for f in st.fields if f.tag is not None]
    for f in st.fields:
        inline = (f.versions[0], f.versions[1])
        # in-line versions: present and not tagged
        ranges = []
        if empty(f.tagged):
            ranges = [inline]
        else:
            ranges = [intersect(inline, (0, f.tagged[0] - 1)), intersect(inline, (f.tagged[1] + 1, VMAX))]
        ranges = [x for x in ranges if not empty(intersect(x, msg.versions))]
        c(f"    /* {def_line(f)} */")
        for rg in ranges:
            cnd = cond(msg, rg)
            if cnd == "1":
                emit_field_read(c, msg, st, f, rg, 4)
            else:
                c(f"    if ({cnd}) {{")
                emit_field_read(c, msg, st, f, rg, 8)
                c("    }")
    if uses_flex:
        c("    if (flex) {")
        c("        o->tagged_fields = kw_read_tagged_fields_fast_(r);")
        if tagged_fields:
            c("        if (o->tagged_fields.count)")
            c(f"            {st.cname}_read_tags(r, v, o);")
        c("    } else {")
        c("        o->tagged_fields = kw_no_tagged_fields_();")
        c("    }")
    c("    (void)v;")
    c("}")
    c()


def emit_tag_reader(c, msg, st):
    tagged_fields = [f for f in st.fields if f.tag is not None]
    if not tagged_fields or msg.flexible is None:
        return
    c(f"static void {st.cname}_read_tags(kw_reader *r, int16_t v, {st.cname} *o)")
    c("{")
    c("    const bool flex = true; /* tagged fields exist only in flexible versions */")
    c("    kw_tag_iter it;")
    c("    kw_tagged_field tf;")
    c("    kw_tag_iter_init(&it, o->tagged_fields);")
    c("    while (kw_tag_iter_next(&it, &tf)) {")
    c("        kw_reader t = kw_tag_reader_(r, tf.data);")
    c("        switch (tf.tag) {")
    bytag = {}
    for f in tagged_fields:
        bytag.setdefault(f.tag, []).append(f)
    for tag, fs in sorted(bytag.items()):
        c(f"        case {tag}:")
        for f in fs:
            rg = intersect(f.tagged, f.versions)
            cnd = cond(msg, rg)
            c(f"            if ({cnd}) {{ /* {def_line(f)} */")
            emit_field_read(c, msg, st, f, rg, 16, rvar="&t")
            c("                break;")
            c("            }")
        c("            continue; /* not known in this version: stays in tagged_fields */")
    c("        default:")
    c("            continue;")
    c("        }")
    c("        kw_tag_reader_done_(r, &t);")
    c("    }")
    c("    (void)flex;")
    c("    (void)v;")
    c("}")
    c()


def emit_min_table(c, msg, st):
    hi = msg.versions[1]
    sizes = [min_size(msg, st, v) if v >= msg.versions[0] else 0 for v in range(hi + 1)]
    c(f"/* Fewest bytes one {st.name} takes, by version. */")
    c(f"static const uint16_t {st.cname}_min_size[{hi + 1}] = {{{', '.join(map(str, sizes))}}};")
    c()


def kw_type_of(f):
    return "KW_TYPE_STRUCT" if f.is_struct else PRIMITIVES[f.type][1]


def vers_init(r):
    if empty(r):
        return "{1, 0}"
    return f"{{{r[0]}, {r[1]}}}"


def c_string(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def default_int_init(f):
    """The default as the integer kw_field_info.default_int holds (bool 1/0), parsed here once."""
    d = f.default
    if d is None or d in ("null", "", "false") or f.type not in (
            "bool", "int8", "int16", "uint16", "int32", "int64"):
        return "0"
    v = 1 if d == "true" else int(d, 0)
    return "INT64_MIN" if v == -2**63 else f"INT64_C({v})"


def emit_info(c, msg, st):
    if st.fields:
        c(f"static const kw_field_info {st.cname}_fields[] = {{")
        for f in st.fields:
            sub = f"&{f.struct.cname}_struct_info" if f.is_struct else "NULL"
            dflt = c_string(f.default) if f.default is not None else "NULL"
            c(f"    {{{c_string(f.name)}, {kw_type_of(f)}, {int(f.is_array)}, {int(f.never_flexible)}, "
              f"{int(f.ignorable)}, {vers_init(f.versions)}, {vers_init(f.nullable)}, "
              f"{vers_init(f.tagged)}, {f.tag if f.tag is not None else -1}, {sub}, {dflt}, "
              f"{default_int_init(f)}, {int(f.default == 'null')}}},")
        c("};")
    fields = f"{st.cname}_fields" if st.fields else "NULL"
    c(f"static const kw_struct_info {st.cname}_struct_info = {{{c_string(st.name)}, {fields}, {len(st.fields)}}};")
    c()


KIND_ENUM = {"request": "KW_MSG_REQUEST", "response": "KW_MSG_RESPONSE", "header": "KW_MSG_HEADER",
             "data": "KW_MSG_DATA", "record": "KW_MSG_RECORD"}



# ---------------------------------------------------------------------------
# Encoders: fields are written back to front, so a struct's tagged section
# comes first and its fields follow in reverse order.

SLICE_WRITERS = {
    "string": ("kw_build_string", "kw_build_nullable_string", "kw_build_compact_string",
               "kw_build_compact_nullable_string"),
    "bytes": ("kw_build_bytes", "kw_build_nullable_bytes", "kw_build_compact_bytes",
              "kw_build_compact_nullable_bytes"),
    "records": ("kw_build_records", "kw_build_records", "kw_build_compact_records",
                "kw_build_compact_records"),
}

SCALAR_WRITE = {
    "bool": "kw_build_bool",
    "int8": "kw_build_i8",
    "int16": "kw_build_i16",
    "uint16": "kw_build_u16",
    "int32": "kw_build_i32",
    "int64": "kw_build_i64",
    "float64": "kw_build_f64",
}


def flex_expr_for(msg, f):
    return "0" if f.never_flexible or msg.flexible is None else "flex"


def nullable_expr(msg, f, present):
    nul = nullable_choice(msg, f, present)
    return {"always": "1", "never": "0"}.get(nul, f"({nul})")


def emit_field_write(c, msg, f, present, ind, src):
    """Statements writing field f (value at src, e.g. o->acks) back to front."""
    pad = " " * ind
    flex = flex_expr_for(msg, f)
    nullable = nullable_expr(msg, f, present)
    if f.is_array:
        c(f"{pad}if (kw_array_write_begin_(b, &{src}, v, {flex}, {nullable})) {{")
        if f.is_struct:
            c(f"{pad}    const {f.struct.cname} *items = {src}.items;")
            c(f"{pad}    for (int32_t i = {src}.count; i-- > 0;)")
            c(f"{pad}        {f.struct.cname}_write(b, v, &items[i]);")
        else:
            c(f"{pad}    kw_array_write_items_(b, &{src}, {PRIMITIVES[f.type][1]}, {flex});")
        c(f"{pad}}}")
        c(f"{pad}kw_array_write_end_(b, &{src}, {flex});")
        return
    if f.is_struct:
        nul = nullable_choice(msg, f, present)
        if nul == "never":
            c(f"{pad}{f.struct.cname}_write(b, v, &{src});")
        else:
            # a nullable struct: its fields behind an int8 marker, -1 for null
            c(f"{pad}if (o->has_{f.name})")
            c(f"{pad}    {f.struct.cname}_write(b, v, &{src});")
            if nul == "always":
                c(f"{pad}kw_build_i8(b, o->has_{f.name} ? 1 : -1);")
            else:
                c(f"{pad}if ({nul})")
                c(f"{pad}    kw_build_i8(b, o->has_{f.name} ? 1 : -1);")
        return
    if f.type == "records":
        c(f"{pad}{reader_expr(msg, f, present, SLICE_WRITERS[f.type], 'b, &' + src)};")
        return
    if f.type in SLICE_WRITERS:
        # the same choice of classic/compact and nullable form as the reader
        c(f"{pad}{reader_expr(msg, f, present, SLICE_WRITERS[f.type], 'b, ' + src)};")
        return
    if f.type == "uuid":
        c(f"{pad}kw_build_uuid(b, &{src});")
        return
    c(f"{pad}{SCALAR_WRITE[f.type]}(b, {src});")


def is_default_expr(f, src, struct_owner="o"):
    """C expression: the field holds its default, so a tagged field may be left out."""
    d = f.default
    if f.is_array:
        return f"{src}.count < 0" if d == "null" else f"{src}.count == 0"
    if f.is_struct:
        return f"!{struct_owner}->has_{f.name}"
    if f.type == "records":
        if d == "null":
            return f"kw_records_is_null(&{src})"
        return f"(!kw_records_is_null(&{src}) && {src}.bytes.len == 0)"
    if f.type in ("string", "bytes", "records"):
        if d == "null":
            return f"kw_slice_is_null({src})"
        return f"(!kw_slice_is_null({src}) && {src}.len == 0)"
    if f.type == "uuid":
        return f"kw_uuid_is_zero_(&{src})"
    if f.type == "bool":
        return f"{src} == {'true' if d == 'true' else 'false'}"
    if f.type == "float64":
        return f"{src} == {float(d) if d else 0.0!r}"
    val = int(d, 0) if d else 0
    if val == -2147483648:
        return f"{src} == INT32_MIN"
    return f"{src} == {val}"


def emit_struct_writer(c, msg, st, is_root):
    tagged = [f for f in st.fields if f.tag is not None]
    has_tags = bool(tagged) and msg.flexible is not None
    if has_tags:
        c(f"static bool {st.cname}_write_tag(kw_builder *b, int16_t v, const void *self, uint32_t tag,")
        c("                                   bool in_raw)")
        c("{")
        c(f"    const {st.cname} *o = self;")
        c("    const bool flex = true; /* tagged fields exist only in flexible versions */")
        c("    switch (tag) {")
        bytag = {}
        for f in tagged:
            bytag.setdefault(f.tag, []).append(f)
        for tag, fs in sorted(bytag.items()):
            c(f"    case {tag}:")
            for f in fs:
                rg = intersect(f.tagged, f.versions)
                c(f"        if ({cond(msg, rg)}) {{ /* {def_line(f)} */")
                c(f"            if (!in_raw && {is_default_expr(f, 'o->' + f.cname())})")
                c("                return false;")
                emit_field_write(c, msg, f, rg, 12, "o->" + f.cname())
                c("            return true;")
                c("        }")
            c("        return false;")
        c("    default:")
        c("        (void)v;")
        c("        (void)flex;")
        c("        return false;")
        c("    }")
        c("}")
        c()
        # tags known in each version, highest first
        c(f"static size_t {st.cname}_known_tags(int16_t v, uint32_t *tags)")
        c("{")
        c("    size_t n = 0;")
        for tag, fs in sorted(bytag.items(), reverse=True):
            conds = " || ".join(f"({cond(msg, intersect(f.tagged, f.versions))})" for f in fs)
            c(f"    if ({conds})")
            c(f"        tags[n++] = {tag};")
        c("    (void)v;")
        c("    return n;")
        c("}")
        c()
    c(f"static void {st.cname}_write(kw_builder *b, int16_t v, const {st.cname} *o)")
    c("{")
    if msg.flexible is not None:
        c(f"    const bool flex = v >= {msg.flexible};")
        c("    if (flex) {")
        if has_tags:
            c("        uint32_t tags[16] = {0};")
            c(f"        size_t n = {st.cname}_known_tags(v, tags);")
            c(f"        kw_build_tagged_section_(b, o->tagged_fields, tags, n, {st.cname}_write_tag, v, o);")
        else:
            c("        kw_build_tagged_section_(b, o->tagged_fields, NULL, 0, NULL, v, o);")
        c("    }")
    for f in reversed(st.fields):
        inline = (f.versions[0], f.versions[1])
        if empty(f.tagged):
            ranges = [inline]
        else:
            ranges = [intersect(inline, (0, f.tagged[0] - 1)), intersect(inline, (f.tagged[1] + 1, VMAX))]
        ranges = [x for x in ranges if not empty(intersect(x, msg.versions))]
        if not ranges:
            continue
        c(f"    /* {def_line(f)} */")
        for rg in ranges:
            cnd = cond(msg, rg)
            if cnd == "1":
                emit_field_write(c, msg, f, rg, 4, "o->" + f.cname())
            else:
                c(f"    if ({cnd}) {{")
                emit_field_write(c, msg, f, rg, 8, "o->" + f.cname())
                c("    }")
    c("    (void)v;")
    c("    (void)o;")
    c("}")
    c()


def emit_struct_materialize(c, msg, st):
    arrays = [f for f in st.fields if f.is_array]
    inner = [f for f in st.fields if f.is_struct and not f.is_array]
    c(f"static void {st.cname}_materialize_(kw_arena *a, {st.cname} *o)")
    c("{")
    for f in arrays:
        m = f"o->{f.cname()}"
        if f.is_struct:
            c(f"    if (kw_array_needs_items_(&{m})) {{")
            c(f"        {f.struct.cname} *items = kw_arena_alloc(a, (size_t){m}.count * sizeof *items, _Alignof({f.struct.cname}));")
            c("        if (items) {")
            c("            kw_array_iter it;")
            c(f"            kw_array_iter_init(&it, &{m});")
            c(f"            for (int32_t i = 0; i < {m}.count; i++) {{")
            c(f"                {f.struct.cname}_read(&it.r, it.version, &items[i]);")
            c(f"                {f.struct.cname}_materialize_(a, &items[i]);")
            c("            }")
            c(f"            {m}.items = items;")
            c("        }")
            c("    }")
        else:
            c(f"    kw_array_materialize_primitive_(a, &{m});")
    for f in inner:
        c(f"    {f.struct.cname}_materialize_(a, &o->{f.cname()});")
    if not arrays and not inner:
        c("    (void)a;")
        c("    (void)o;")
    c("}")
    c()


def emit_message(h, c, msg):
    root = msg.root
    flex = versions_text((msg.flexible, VMAX)) if msg.flexible is not None else "none"
    key = f"api key {msg.api_key}, " if msg.kind in ("request", "response") else (
        f"record type {msg.api_key}, " if msg.kind == "record" else "")
    title = f"{msg.name}: {key}versions {versions_text(msg.versions)}, flexible {flex}"
    h(f"/* ==== {title} ==== */")
    h()
    c(f"/* ==== {title} ==== */")
    c()
    structs = ordered_structs(msg)
    for st in structs:
        emit_struct_typedef(h, msg, st, False)
    emit_struct_typedef(h, msg, root, True)
    h(f"KW_API extern const kw_message_info {root.cname}_info;")
    h(f"/** Decodes a {msg.name} of the given version from r (see kwire/message.h). */")
    h(f"KW_API kw_err {root.cname}_decode(kw_reader *r, int16_t version, {root.cname} *out,")
    h("                             kw_decode_error *err);")
    h(f"/** Writes a {msg.name} of the given version back to front into b. */")
    h(f"KW_API kw_err {root.cname}_encode(kw_builder *b, int16_t version, const {root.cname} *msg);")
    h("/** Turns every array window of a decoded view into items from the arena. */")
    h(f"KW_API kw_err {root.cname}_materialize({root.cname} *view, kw_arena *arena);")
    for st in structs + [root]:
        h(f"/** Sets every field of a {st.name} to its definition's default. */")
        h(f"KW_API void {st.cname}_init({st.cname} *view);")
    array_structs = set()
    for st in structs + [root]:
        for f in st.fields:
            if f.is_array and f.is_struct:
                array_structs.add(f.struct.name)
    for st in structs:
        if st.name in array_structs:
            h(f"/** Next {st.name} of a validated array; false at the end. */")
            h(f"KW_API bool {st.cname}_next(kw_array_iter *it, {st.cname} *out);")
    h()

    for st in structs + [root]:
        c(f"static void {st.cname}_read(kw_reader *r, int16_t v, {st.cname} *o);")
        c(f"static void {st.cname}_write(kw_builder *b, int16_t v, const {st.cname} *o);")
        c(f"static void {st.cname}_materialize_(kw_arena *a, {st.cname} *o);")
        if any(f.tag is not None for f in st.fields) and msg.flexible is not None:
            c(f"static void {st.cname}_read_tags(kw_reader *r, int16_t v, {st.cname} *o);")
    c()
    for st in structs:
        if st.name in array_structs:
            emit_min_table(c, msg, st)
    for st in structs:
        emit_info(c, msg, st)
    emit_info(c, msg, root)
    for st in structs + [root]:
        emit_struct_reader(c, msg, st, st is root)
        emit_tag_reader(c, msg, st)
        emit_struct_writer(c, msg, st, st is root)
        emit_struct_materialize(c, msg, st)
        emit_struct_init(c, msg, st, st is root)
    for st in structs:
        if st.name in array_structs:
            c(f"bool {st.cname}_next(kw_array_iter *it, {st.cname} *out)")
            c("{")
            c("    if (it->left <= 0)")
            c("        return false;")
            c("    it->left--;")
            c(f"    {st.cname}_read(&it->r, it->version, out);")
            c("    return true;")
            c("}")
            c()
    rc = root.cname
    c(f"kw_err {rc}_decode(kw_reader *r, int16_t version, {rc} *out, kw_decode_error *err)")
    c("{")
    c(f"    if (!kw_versions_has({rc}_info.versions, version))")
    c(f"        return kw_decode_unsupported_(&{rc}_info, version, r, err);")
    c("    const kw_reader start = *r;")
    c(f"    {rc}_read(r, version, out);")
    c("    if (KW_LIKELY(kw_reader_ok(r)))")
    c("        return KW_OK;")
    c(f"    kw_message_diagnose(&{rc}_info, version, &start, r, err);")
    c("    return r->err;")
    c("}")
    c()
    c(f"kw_err {rc}_encode(kw_builder *b, int16_t version, const {rc} *msg)")
    c("{")
    c(f"    if (!kw_versions_has({rc}_info.versions, version)) {{")
    c("        kw_builder_fail(b, KW_ERR_UNSUPPORTED_VERSION);")
    c("        return b->err;")
    c("    }")
    c(f"    {rc}_write(b, version, msg);")
    c("    return b->err;")
    c("}")
    c()
    c(f"kw_err {rc}_materialize({rc} *view, kw_arena *arena)")
    c("{")
    c("    size_t before = arena->failed;")
    c(f"    {rc}_materialize_(arena, view);")
    c("    return arena->failed != before ? KW_ERR_NO_SPACE : KW_OK;")
    c("}")
    c()
    c(f"static kw_err {rc}_encode_any(kw_builder *b, int16_t version, const void *view)")
    c("{")
    c(f"    return {rc}_encode(b, version, view);")
    c("}")
    c()
    c(f"static kw_err {rc}_materialize_any(void *view, kw_arena *arena)")
    c("{")
    c(f"    return {rc}_materialize(view, arena);")
    c("}")
    c()
    c(f"static kw_err {rc}_decode_any(kw_reader *r, int16_t version, void *view, kw_decode_error *err)")
    c("{")
    c(f"    return {rc}_decode(r, version, view, err);")
    c("}")
    c()
    c(f"static void {rc}_init_any(void *view)")
    c("{")
    c(f"    {rc}_init(view);")
    c("}")
    c()
    flexv = msg.flexible if msg.flexible is not None else -1
    c(f"const kw_message_info {rc}_info = {{{c_string(msg.name)}, {KIND_ENUM[msg.kind]}, {msg.api_key}, "
      f"{vers_init(msg.versions)}, {flexv}, &{rc}_struct_info, {rc}_decode_any, sizeof({rc}), "
      f"{rc}_encode_any, {rc}_materialize_any, {rc}_init_any}};")
    c()


def emit_api_table(c, messages):
    """The API table (kwire/api.h) from the request definitions: keys must be dense
    from 0, and each kw_api_key constant must name its key, or the build fails."""
    requests = sorted((m for m in messages if m.kind == "request"), key=lambda m: m.api_key)
    keys = [m.api_key for m in requests]
    if keys != list(range(len(keys))):
        raise SystemExit("kwgen: API keys are not dense from 0: %s" % keys)
    c()
    c("/* The API table, indexed by key. */")
    c('_Static_assert(KW_API_KEY_COUNT == %d, "kw_api_key in kwire/api.h does not match lib/defs");'
      % len(requests))
    c("const kw_api_info kw_api_rows[KW_API_KEY_COUNT] = {")
    for m in requests:
        api = m.name[:-len("Request")]
        const = "KW_API_" + snake(api).upper()
        lo, hi = m.versions
        flex = m.flexible if m.flexible is not None else -1
        c(f'    [{const}] = {{{const}, "{api}", {lo}, {hi}, {flex}}},')
    c("};")
    for m in requests:
        const = "KW_API_" + snake(m.name[:-len("Request")]).upper()
        c(f'_Static_assert({const} == {m.api_key}, "{const} is key {m.api_key}");')


def main(argv):
    if len(argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    out_h, out_c, defs = argv[1], argv[2], sorted(argv[3:], key=os.path.basename)
    messages = []
    try:
        for path in defs:
            messages.extend(parse_file(path))
        names = set()
        for m in messages:
            if m.name in names:
                raise DefError(f"{m.where}: message {m.name} defined twice")
            names.add(m.name)
            resolve(m)
    except DefError as e:
        print(f"kwgen: {e}", file=sys.stderr)
        return 1

    h, c = Out(), Out()
    h("/* Generated by lib/gen/kwgen.py from the definitions in lib/defs: do not edit. */")
    h("#ifndef KWIRE_MESSAGES_H")
    h("#define KWIRE_MESSAGES_H")
    h()
    h('#include "kwire/header.h"')
    h('#include "kwire/message.h"')
    h()
    h("#ifdef __cplusplus")
    h('extern "C" {')
    h("#endif")
    h()
    c("/* Generated by lib/gen/kwgen.py from the definitions in lib/defs: do not edit. */")
    c("#include <stdio.h>")
    c("#include <string.h>")
    c()
    c('#include "internal.h"')
    c('#include "kwire/api.h"')
    c('#include "kwire/messages.h"')
    c()
    for m in messages:
        emit_message(h, c, m)

    # The generic union and lookup tables.
    h("/** Any message's view, tagged by its description. */")
    h("typedef struct kw_message {")
    h("    const kw_message_info *info;")
    h("    union {")
    for m in messages:
        h(f"        {m.root.cname} {m.csnake};")
    h("    } u;")
    h("} kw_message;")
    h()
    h("/** The version a decoded message was read as (every view starts with it). */")
    h("static inline int16_t kw_message_version(const kw_message *m)")
    h("{")
    h(f"    return m->u.{messages[0].csnake}.version_;")
    h("}")
    h()
    h("/**")
    h(" * Decodes the body of a request (after its header) for an API key and")
    h(" * version into out, which out->info then describes. The body must fill")
    h(" * the reader exactly (TRAILING_BYTES otherwise); an unknown key gives")
    h(" * UNKNOWN_API_KEY, a version outside the valid range UNSUPPORTED_VERSION.")
    h(" */")
    h("KW_API kw_err kw_request_decode(kw_reader *r, int16_t api_key, int16_t version, kw_message *out,")
    h("                               kw_decode_error *err);")
    h("/**")
    h(" * The same for the body of a response (after its header), at the version of")
    h(" * the request it answers. ApiVersions is read as Kafka's clients read it")
    h(" * (KIP-511): at the version asked, and only when that fails as v0, the body a")
    h(" * broker sends with UNSUPPORTED_VERSION for a version it does not know.")
    h(" * kw_message_version(out) tells which version was read; when both fail, err")
    h(" * and the return value are those of the v0 reading, as in Kafka's client.")
    h(" */")
    h("KW_API kw_err kw_response_decode(kw_reader *r, int16_t api_key, int16_t version, kw_message *out,")
    h("                                kw_decode_error *err);")
    h("/** Decodes any described message m; the body must fill the reader exactly. */")
    h("KW_API kw_err kw_message_decode(const kw_message_info *m, kw_reader *r, int16_t version,")
    h("                               kw_message *out, kw_decode_error *err);")
    h()
    h("/* ---- whole frames: size prefix, header and body in one call ------------------- */")
    h()
    h("/**")
    h(" * Writes one whole request frame in front of what b holds: the int32 size,")
    h(" * the request header in the version api_key and version call for (client_id")
    h(" * ptr NULL: null) and body, the key's request view, encoded at version. It")
    h(" * is ready to send. Returns b's error; UNKNOWN_API_KEY or UNSUPPORTED_VERSION")
    h(" * (latched in b) for a key or version kwire does not define.")
    h(" */")
    h("KW_API kw_err kw_build_request_frame(kw_builder *b, int16_t api_key, int16_t version,")
    h("                                     int32_t correlation_id, kw_slice client_id,")
    h("                                     const void *body);")
    h("/** The same for the response to a request of api_key at version. */")
    h("KW_API kw_err kw_build_response_frame(kw_builder *b, int16_t api_key, int16_t version,")
    h("                                      int32_t correlation_id, const void *body);")
    h("/**")
    h(" * Reads one whole request frame from the start of buf[0..len): the size")
    h(" * prefix, the header into hdr and the body into out (slices point into buf).")
    h(" * *frame_len (may be NULL) gets the bytes the frame takes, prefix included,")
    h(" * so a stream goes on there. Errors: TRUNCATED when buf holds less than the")
    h(" * size says, FRAME_NEGATIVE, the header's errors (err->path \"header.<field>\",")
    h(" * err->message NULL) and the body's, as kw_request_decode gives them; every")
    h(" * offset counts from the first byte of the frame.")
    h(" */")
    h("KW_API kw_err kw_read_request_frame(const void *buf, size_t len, kw_request_header *hdr,")
    h("                                   kw_message *out, size_t *frame_len, kw_decode_error *err);")
    h("/**")
    h(" * The same for a response frame answering a request of api_key at version")
    h(" * (the header version follows from them; the body is read as kw_response_decode")
    h(" * reads it).")
    h(" */")
    h("KW_API kw_err kw_read_response_frame(const void *buf, size_t len, int16_t api_key,")
    h("                                    int16_t version, kw_response_header *hdr,")
    h("                                    kw_message *out, size_t *frame_len,")
    h("                                    kw_decode_error *err);")
    h()
    h("#ifdef __cplusplus")
    h("}")
    h("#endif")
    h()
    h("#endif /* KWIRE_MESSAGES_H */")

    c("static const kw_message_info *const all_messages[] = {")
    for m in messages:
        c(f"    &{m.root.cname}_info,")
    c("};")
    c()
    reqs = {m.api_key: m for m in messages if m.kind == "request"}
    resps = {m.api_key: m for m in messages if m.kind == "response"}
    n = max(list(reqs) + list(resps)) + 1 if reqs else 0
    for tab, d in (("request_by_key", reqs), ("response_by_key", resps)):
        c(f"static const kw_message_info *const {tab}[{n}] = {{")
        for k in range(n):
            c(f"    {'&' + d[k].root.cname + '_info' if k in d else 'NULL'},")
        c("};")
        c()
    c("const kw_message_info *const *kw_messages(size_t *count)")
    c("{")
    c("    *count = sizeof all_messages / sizeof all_messages[0];")
    c("    return all_messages;")
    c("}")
    c()
    c("const kw_message_info *kw_message_for_api(int16_t api_key, bool response)")
    c("{")
    c(f"    if (api_key < 0 || api_key >= {n})")
    c("        return NULL;")
    c("    return response ? response_by_key[api_key] : request_by_key[api_key];")
    c("}")
    c()
    c("kw_err kw_message_decode(const kw_message_info *m, kw_reader *r, int16_t version, kw_message *out,")
    c("                         kw_decode_error *err)")
    c("{")
    c("    out->info = m;")
    c("    kw_err e = m->decode(r, version, &out->u, err);")
    c("    if (e != KW_OK)")
    c("        return e;")
    c("    kw_reader_expect_end(r);")
    c("    if (kw_reader_ok(r))")
    c("        return KW_OK;")
    c("    kw_decode_error_fill_(err, m, version, r, \"\"); /* after the last field */")
    c("    return r->err;")
    c("}")
    c()
    c("static kw_err decode_by_key(const kw_message_info *m, kw_reader *r, int16_t version, kw_message *out,")
    c("                            kw_decode_error *err)")
    c("{")
    c("    if (m)")
    c("        return kw_message_decode(m, r, version, out, err);")
    c("    kw_reader_fail(r, KW_ERR_UNKNOWN_API_KEY);")
    c("    out->info = NULL;")
    c("    kw_decode_error_fill_(err, NULL, version, r, \"\");")
    c("    return r->err;")
    c("}")
    c()
    c("kw_err kw_request_decode(kw_reader *r, int16_t api_key, int16_t version, kw_message *out,")
    c("                         kw_decode_error *err)")
    c("{")
    c("    return decode_by_key(kw_message_for_api(api_key, false), r, version, out, err);")
    c("}")
    c()
    c("kw_err kw_response_decode(kw_reader *r, int16_t api_key, int16_t version, kw_message *out,")
    c("                          kw_decode_error *err)")
    c("{")
    c("    const kw_message_info *m = kw_message_for_api(api_key, true);")
    c("    if (api_key != KW_API_API_VERSIONS || version == 0)")
    c("        return decode_by_key(m, r, version, out, err);")
    c("    kw_reader start = *r;")
    c("    if (decode_by_key(m, r, version, out, err) == KW_OK)")
    c("        return KW_OK;")
    c("    *r = start; /* as Kafka's client: the v0 reading, and its error when that fails too */")
    c("    return decode_by_key(m, r, 0, out, err);")
    c("}")
    c()
    c("static kw_err build_frame(kw_builder *b, const kw_message_info *m, int16_t api_key,")
    c("                          int16_t version, const kw_request_header *req,")
    c("                          const kw_response_header *resp, const void *body)")
    c("{")
    c("    if (!m || !kw_versions_has(m->versions, version)) {")
    c("        kw_builder_fail(b, m ? KW_ERR_UNSUPPORTED_VERSION : KW_ERR_UNKNOWN_API_KEY);")
    c("        return kw_builder_error(b);")
    c("    }")
    c("    size_t mark = kw_builder_size(b);")
    c("    if (m->encode(b, version, body) != KW_OK)")
    c("        return kw_builder_error(b);")
    c("    if (req)")
    c("        kw_build_request_header(b, kw_request_header_version(api_key, version), req);")
    c("    else")
    c("        kw_build_response_header(b, kw_response_header_version(api_key, version), resp);")
    c("    kw_build_length_i32(b, mark);")
    c("    return kw_builder_error(b);")
    c("}")
    c()
    c("kw_err kw_build_request_frame(kw_builder *b, int16_t api_key, int16_t version,")
    c("                              int32_t correlation_id, kw_slice client_id, const void *body)")
    c("{")
    c("    kw_request_header h = {api_key, version, correlation_id, client_id, {0, {NULL, 0}}, 0};")
    c("    return build_frame(b, kw_message_for_api(api_key, false), api_key, version, &h, NULL, body);")
    c("}")
    c()
    c("kw_err kw_build_response_frame(kw_builder *b, int16_t api_key, int16_t version,")
    c("                               int32_t correlation_id, const void *body)")
    c("{")
    c("    kw_response_header h = {correlation_id, {0, {NULL, 0}}, 0};")
    c("    return build_frame(b, kw_message_for_api(api_key, true), api_key, version, NULL, &h, body);")
    c("}")
    c()
    c("/* A frame's bytes as a reader of their own (offsets from the frame's start), past the size. */")
    c("static kw_err open_frame(const void *buf, size_t len, kw_reader *r, size_t *frame_len,")
    c("                         kw_decode_error *err)")
    c("{")
    c("    kw_reader_init(r, buf, len);")
    c("    int32_t size = kw_read_i32(r);")
    c("    if (kw_reader_ok(r) && size < 0)")
    c("        kw_reader_fail(r, KW_ERR_FRAME_NEGATIVE);")
    c("    else if (kw_reader_ok(r) && (size_t)size > len - 4)")
    c("        kw_reader_fail(r, KW_ERR_TRUNCATED);")
    c("    if (!kw_reader_ok(r)) {")
    c("        kw_decode_error_fill_(err, NULL, -1, r, \"size\");")
    c("        return r->err;")
    c("    }")
    c("    kw_reader_init(r, buf, 4 + (size_t)size);")
    c("    (void)kw_read_i32(r);")
    c("    if (frame_len)")
    c("        *frame_len = 4 + (size_t)size;")
    c("    return KW_OK;")
    c("}")
    c()
    c("static kw_err header_error(kw_decode_error *err, const kw_error *he, int16_t version)")
    c("{")
    c("    if (err) {")
    c("        err->code = he->code;")
    c("        err->offset = he->offset;")
    c("        err->message = NULL;")
    c("        err->version = version;")
    c("        snprintf(err->path, sizeof err->path, \"header.%s\", he->field ? he->field : \"?\");")
    c("    }")
    c("    return he->code;")
    c("}")
    c()
    c("kw_err kw_read_request_frame(const void *buf, size_t len, kw_request_header *hdr, kw_message *out,")
    c("                            size_t *frame_len, kw_decode_error *err)")
    c("{")
    c("    kw_reader r;")
    c("    kw_err e = open_frame(buf, len, &r, frame_len, err);")
    c("    if (e != KW_OK)")
    c("        return e;")
    c("    kw_error he;")
    c("    if (kw_request_header_parse(&r, hdr, &he) != KW_OK)")
    c("        return header_error(err, &he, hdr->api_version);")
    c("    return kw_request_decode(&r, hdr->api_key, hdr->api_version, out, err);")
    c("}")
    c()
    c("kw_err kw_read_response_frame(const void *buf, size_t len, int16_t api_key, int16_t version,")
    c("                             kw_response_header *hdr, kw_message *out, size_t *frame_len,")
    c("                             kw_decode_error *err)")
    c("{")
    c("    kw_reader r;")
    c("    kw_err e = open_frame(buf, len, &r, frame_len, err);")
    c("    if (e != KW_OK)")
    c("        return e;")
    c("    kw_error he;")
    c("    int hv = kw_response_header_version(api_key, version);")
    c("    if (hv < 0) {")
    c("        kw_reader_fail(&r, KW_ERR_UNKNOWN_API_KEY);")
    c("        kw_decode_error_fill_(err, NULL, version, &r, \"header\");")
    c("        return r.err;")
    c("    }")
    c("    if (kw_response_header_read(&r, hv, hdr, &he) != KW_OK)")
    c("        return header_error(err, &he, version);")
    c("    return kw_response_decode(&r, api_key, version, out, err);")
    c("}")
    c()
    c("const kw_message_info *kw_message_by_name(const char *name)")
    c("{")
    c("    for (size_t i = 0; i < sizeof all_messages / sizeof all_messages[0]; i++)")
    c("        if (strcmp(all_messages[i]->name, name) == 0)")
    c("            return all_messages[i];")
    c("    return NULL;")
    c("}")

    emit_api_table(c, messages)

    for path, out in ((out_h, h), (out_c, c)):
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(out.text())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
