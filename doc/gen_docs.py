#!/usr/bin/env python3
"""gen_docs: kwire's API reference as static HTML.

usage: gen_docs.py OUT_DIR [SOURCE_ROOT]

Reads the public headers (include/kwire/*.h), the message definitions
(lib/defs/*.kwdef, through the generator's own parser in lib/gen/kwgen.py),
the Kafka error codes (doc/kafka_errors.txt) and the guide (doc/guide.md), and
writes one flat folder of pages: index.html, one page per header, one per
message, apis.html, errors.html, guide.html, search.html with its JSON index.
Standard library only.
"""
import glob
import html
import json
import os
import re
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


# ---------------------------------------------------------------------------
# Pages

def esc(s):
    return html.escape(s, quote=True)


def header_page(name):
    return "header-%s.html" % name[:-2]


def message_page(msg):
    return "msg-%s.html" % msg.csnake


NAV = [("index.html", "Index"), ("guide.html", "Guide"), ("apis.html", "API keys"),
       ("errors.html", "Error codes"), ("search.html", "Search")]


def page(title, body, scripts=()):
    nav = " ".join('<a href="%s">%s</a>' % (h, t) for h, t in NAV)
    search = ('<form class="search" action="search.html" method="get">'
              '<input type="search" name="q" placeholder="Search names" aria-label="Search names">'
              '</form>')
    js = "".join('<script src="%s"></script>' % s for s in scripts)
    return ('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            '<title>%s · kwire</title>\n<link rel="stylesheet" href="style.css">\n</head>\n'
            '<body>\n<header class="top"><span class="brand">kwire</span> <nav>%s</nav> %s</header>\n'
            '<main>\n%s\n</main>\n%s\n</body>\n</html>\n') % (esc(title), nav, search, body, js)


class Links:
    """Names that code blocks link to: identifier -> href."""

    def __init__(self):
        self.map = {}

    def add(self, name, href):
        self.map.setdefault(name, href)

    def code(self, text, skip=None):
        """Escaped code with every known identifier linked (except skip)."""
        out, pos = [], 0
        for m in re.finditer(r"\b[A-Za-z_][A-Za-z0-9_]*\b", text):
            out.append(esc(text[pos:m.start()]))
            word = m.group(0)
            href = self.map.get(word)
            if href and word != skip:
                out.append('<a href="%s">%s</a>' % (esc(href), esc(word)))
            else:
                out.append(esc(word))
            pos = m.end()
        out.append(esc(text[pos:]))
        return "".join(out)


def prose(text):
    """A doc comment as paragraphs; blank lines separate them, `x` is code."""
    paras = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    out = []
    for p in paras:
        lines = p.split("\n")
        if all(re.match(r"\s*[-*] ", l) or l.startswith("  ") for l in lines[1:]) and \
                re.match(r"\s*[-*] ", lines[0]):
            items, cur = [], []
            for l in lines:
                if re.match(r"\s*[-*] ", l):
                    if cur:
                        items.append(" ".join(cur))
                    cur = [re.sub(r"^\s*[-*] ", "", l)]
                else:
                    cur.append(l.strip())
            items.append(" ".join(cur))
            out.append("<ul>%s</ul>" % "".join("<li>%s</li>" % inline(i) for i in items))
        else:
            out.append("<p>%s</p>" % inline(" ".join(l.strip() for l in lines)))
    return "\n".join(out)


# ---------------------------------------------------------------------------
# Markdown subset: headings, paragraphs, lists, inline code, emphasis, links,
# fenced code blocks; HTML comments are dropped.

def slug(text):
    s = re.sub(r"<[^>]+>", "", text)
    s = re.sub(r"[^a-z0-9]+", "-", s.lower()).strip("-")
    return s or "section"


def inline(text, links=None):
    parts = re.split(r"(`[^`]+`)", text)
    out = []
    for p in parts:
        if len(p) > 1 and p.startswith("`") and p.endswith("`"):
            code = p[1:-1]
            out.append("<code>%s</code>" % (links.code(code) if links else esc(code)))
            continue
        s = esc(p)
        s = re.sub(r"\[([^\]]+)\]\(([^)\s]+)\)", lambda m: '<a href="%s">%s</a>' % (m.group(2), m.group(1)), s)
        s = re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", s)
        s = re.sub(r"(?<![\w*])\*([^*\s][^*]*)\*(?![\w*])", r"<em>\1</em>", s)
        out.append(s)
    return "".join(out)


def markdown(text, links=None):
    """Returns (html, [(level, id, title)])."""
    lines = text.split("\n")
    out, toc, i = [], [], 0
    para, ids = [], set()

    def flush():
        if para:
            out.append("<p>%s</p>" % inline(" ".join(para), links))
            para.clear()

    while i < len(lines):
        line = lines[i]
        if line.startswith("```"):
            flush()
            lang = line[3:].strip()
            i += 1
            code = []
            while i < len(lines) and not lines[i].startswith("```"):
                code.append(lines[i])
                i += 1
            i += 1
            body = "\n".join(code)
            body = links.code(body) if links and lang in ("c", "") else esc(body)
            cls = ' class="language-%s"' % esc(lang) if lang else ""
            out.append("<pre><code%s>%s</code></pre>" % (cls, body))
            continue
        if line.strip().startswith("<!--"):
            flush()
            while "-->" not in lines[i]:
                i += 1
            i += 1
            continue
        m = re.match(r"(#{1,6})\s+(.*)", line)
        if m:
            flush()
            level, title = len(m.group(1)), m.group(2).strip()
            hid = slug(title)
            while hid in ids:
                hid += "-x"
            ids.add(hid)
            toc.append((level, hid, title))
            out.append('<h%d id="%s">%s</h%d>' % (level, hid, inline(title, links), level))
            i += 1
            continue
        m = re.match(r"(\s*)([-*]|\d+\.)\s+(.*)", line)
        if m and not m.group(1):
            flush()
            tag = "ol" if m.group(2)[0].isdigit() else "ul"
            items = []
            while i < len(lines):
                m = re.match(r"([-*]|\d+\.)\s+(.*)", lines[i])
                if m:
                    items.append([m.group(2)])
                elif lines[i].startswith("  ") and lines[i].strip() and items:
                    items[-1].append(lines[i].strip())
                else:
                    break
                i += 1
            out.append("<%s>%s</%s>" % (tag, "".join("<li>%s</li>" % inline(" ".join(it), links)
                                                     for it in items), tag))
            continue
        if not line.strip():
            flush()
        else:
            para.append(line.strip())
        i += 1
    flush()
    return "\n".join(out), toc


# ---------------------------------------------------------------------------
# Headers: the declarations at file level with the comment right above each.

class Decl:
    def __init__(self, kind, name, code, doc, section):
        self.kind = kind  # function, type, macro, variable
        self.name = name
        self.code = code
        self.doc = doc
        self.section = section


def comment_text(c):
    """The text of a /* */ or /** */ comment, leading stars removed."""
    body = c[3:] if c.startswith("/**") else c[2:]
    body = body[:-2]
    lines = [re.sub(r"^\s*\* ?", "", l) if re.match(r"^\s*\*", l) else l.strip()
             for l in body.split("\n")]
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    return "\n".join(l.rstrip() for l in lines)


def decl_name(code):
    """Kind and name of a file-level declaration, or (None, None)."""
    flat = re.sub(r"/\*.*?\*/", " ", code, flags=re.S)
    flat = re.sub(r"\s+", " ", flat).strip()
    if re.fullmatch(r"(struct|enum|union)\s+\w+\s*;", flat):
        return None, None  # a forward declaration: the definition comes later
    m = re.match(r"enum\s*\{\s*(\w+)", flat)
    if m:
        return "constant", m.group(1)
    if flat.startswith("typedef"):
        m = re.search(r"\(\s*\*\s*(\w+)\s*\)\s*\(", flat)
        if m and "{" not in flat:
            return "type", m.group(1)
        m = re.search(r"(\w+)\s*(\[[^\]]*\])?\s*;$", flat)
        return ("type", m.group(1)) if m else (None, None)
    head = flat.split("{", 1)[0] if "(" not in flat.split("{", 1)[0] else flat
    paren = head.find("(")
    if paren > 0 and not re.match(r"(struct|enum|union)\b[^(]*\{", flat):
        m = re.search(r"(\w+)\s*$", head[:paren])
        return ("function", m.group(1)) if m else (None, None)
    m = re.match(r"(struct|enum|union)\s+(\w+)", flat)
    if m:
        return "type", m.group(2)
    m = re.search(r"(\w+)\s*(\[[^\]]*\])?\s*(=.*)?;$", flat)
    return ("variable", m.group(1)) if m else (None, None)


def parse_header(text):
    """(file comment, [Decl], [(section, note)]) for one header's text."""
    decls, seen, notes = [], set(), []
    file_doc = ""
    m = re.match(r"\s*(/\*.*?\*/)", text, re.S)
    if m:
        file_doc = comment_text(m.group(1))
        text = text[m.end():]
    section = ""
    pending = None  # comment waiting for the next declaration
    buf, depth, in_impl = "", 0, False
    i, n = 0, len(text)
    line_start = True
    while i < n:
        ch = text[i]
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            c = text[i:j]
            i = j
            if buf.strip():
                buf += c
                continue
            t = comment_text(c)
            sm = re.match(r"-{3,}\s*(.*?)\s*-{3,}\s*$", t)
            if sm:
                section, pending = sm.group(1), None
                continue
            if re.match(r"={5,}", t) or "Implementation of the inline" in t:
                in_impl, pending = True, None
                continue
            if pending is not None and not in_impl:
                notes.append((section, pending))
            pending = t
            # a comment followed by a blank line is a note, not a doc comment
            rest = text[i:i + 200]
            if re.match(r"[ \t]*\n[ \t]*\n", rest):
                if not in_impl:
                    notes.append((section, t))
                pending = None
            continue
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        if ch == "#" and line_start and not buf.strip():
            j = i
            while True:
                e = text.find("\n", j)
                e = n if e < 0 else e
                if text[e - 1] == "\\" if e > 0 else False:
                    j = e + 1
                    continue
                break
            directive = text[i:e]
            i = e
            m = re.match(r"#\s*define\s+(\w+)", directive)
            if m and not re.match(r"KWIRE_\w+_H$", m.group(1)) and not m.group(1).endswith("_") \
                    and not in_impl and m.group(1) not in seen:
                seen.add(m.group(1))
                decls.append(Decl("macro", m.group(1), directive.strip(), pending or "", section))
            if m or not directive.startswith(("#if", "#else", "#elif", "#endif")):
                pending = None
            continue
        if ch == "\n":
            line_start = True
            buf += ch
            i += 1
            if not buf.strip():
                buf = ""
            continue
        if not ch.isspace():
            line_start = False
        if ch == "#" and buf.strip():
            # a directive inside a declaration (an X-macro in an enum) stays part of it
            e = text.find("\n", i)
            buf += text[i:e if e >= 0 else n]
            i = e if e >= 0 else n
            continue
        buf += ch
        i += 1
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth < 0:  # the closing brace of extern "C"
                depth, buf = 0, ""
                continue
            if depth == 0:
                head = re.sub(r"/\*.*?\*/", "", buf, flags=re.S)
                if re.search(r"\)\s*\{", head) and not head.lstrip().startswith(("typedef", "struct", "enum")):
                    # a function definition: keep its prototype only
                    proto = buf[:buf.find("{")].rstrip() + ";"
                    kind, name = decl_name(proto)
                    if name and name not in seen and not name.endswith("_"):
                        seen.add(name)
                        decls.append(Decl(kind, name, proto.strip(), pending or "", section))
                    buf, pending = "", None
        elif ch == ";" and depth == 0:
            code = buf.strip()
            buf = ""
            kind, name = decl_name(code)
            if name and not name.endswith("_") and (name not in seen):
                seen.add(name)
                decls.append(Decl(kind, name, code, pending or "", section))
            pending = None
        if buf.strip() == 'extern "C" {':
            buf, depth = "", 0
    return file_doc, decls, notes


# ---------------------------------------------------------------------------
# Messages, through the generator's parser

def load_messages(root):
    sys.path.insert(0, os.path.join(root, "lib", "gen"))
    import kwgen
    files = sorted(glob.glob(os.path.join(root, "lib", "defs", "*.kwdef")), key=os.path.basename)
    messages, about = [], {}
    for path in files:
        ms = kwgen.parse_file(path)
        first = ""
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("#"):
                    first += line[1:].strip() + " "
                elif line.strip():
                    break
        for m in ms:
            kwgen.resolve(m)
            about[m.name] = (os.path.basename(path), first.strip())
        messages.extend(ms)
    return kwgen, messages, about, files


def generated_header(kwgen, files):
    """The generic part of messages.h (everything after the per-message views)."""
    tmp = tempfile.mkdtemp(prefix="kwire-docs-")
    try:
        h, c = os.path.join(tmp, "messages.h"), os.path.join(tmp, "messages.c")
        if kwgen.main(["kwgen", h, c] + files) != 0:
            raise SystemExit("gen_docs: kwgen failed")
        with open(h, encoding="utf-8") as fh:
            text = fh.read()
    finally:
        shutil.rmtree(tmp)
    cut = text.find("/** Any message's view")
    first = text.find("/* ==== ")
    if cut > 0 and first > 0:
        text = text[:first] + text[cut:]
    return text


# ---------------------------------------------------------------------------
# Writers

def write(out, name, text):
    with open(os.path.join(out, name), "w", encoding="utf-8") as fh:
        fh.write(text)


def header_body(name, file_doc, decls, notes, links, generated=False):
    b = ['<h1 id="top"><code>kwire/%s</code></h1>' % esc(name)]
    b.append('<p class="include"><code>#include &lt;kwire/%s&gt;</code>%s</p>' % (
        esc(name), " (generated at build time from lib/defs)" if generated else ""))
    if file_doc:
        b.append('<div class="about">%s</div>' % prose(file_doc))
    kinds = [("type", "Types"), ("function", "Functions"), ("macro", "Macros"), ("constant", "Constants"),
             ("variable", "Variables")]
    counts = ", ".join("%d %s" % (sum(d.kind == k for d in decls), t.lower()) for k, t in kinds
                       if any(d.kind == k for d in decls))
    b.append('<p class="summary">%s.</p>' % counts)
    b.append('<ul class="toc">%s</ul>' % "".join(
        '<li><a href="#%s"><code>%s</code></a> <span class="kind">%s</span></li>' % (esc(d.name), esc(d.name), d.kind)
        for d in decls))
    section = None
    for d in decls:
        if d.section != section:
            section = d.section
            if section:
                b.append('<h2 id="s-%s">%s</h2>' % (slug(section), esc(section)))
                for s, note in notes:
                    if s == section:
                        b.append('<div class="note">%s</div>' % prose(note))
        b.append('<section class="decl %s" id="%s">' % (d.kind, esc(d.name)))
        b.append('<h3><code>%s</code> <span class="kind">%s</span></h3>' % (esc(d.name), d.kind))
        b.append('<pre><code>%s</code></pre>' % links.code(d.code, skip=d.name))
        if d.doc:
            b.append(prose(d.doc))
        b.append("</section>")
    return "\n".join(b)


def vt(kwgen, r):
    return kwgen.versions_text(r)


def field_ctype(kwgen, f, links):
    if f.is_array:
        inner = f.struct.cname if f.is_struct else kwgen.PRIMITIVES[f.type][0]
        return "kw_array of %s" % links.code(inner)
    if f.is_struct:
        return links.code(f.struct.cname)
    return esc(kwgen.PRIMITIVES[f.type][0])


def version_segments(kwgen, msg):
    """Version ranges over which no field of the message appears or leaves."""
    lo, hi = msg.versions
    cuts = {lo, hi + 1}
    if msg.flexible is not None:
        cuts.add(msg.flexible)

    def walk(fields):
        for f in fields:
            for r in (f.versions, f.nullable, f.tagged):
                if not kwgen.empty(r):
                    cuts.add(r[0])
                    cuts.add(min(r[1], hi) + 1)
            if f.struct is not None and f.struct.fields is not None and f.type not in stack:
                stack.add(f.type)
                walk(f.struct.fields)
                stack.discard(f.type)
    stack = set()
    walk(msg.fields)
    pts = sorted(c for c in cuts if lo <= c <= hi + 1)
    return [(a, b - 1) for a, b in zip(pts, pts[1:])]


def message_body(kwgen, msg, about, links, api_names):
    root = msg.root
    kind = {"request": "request", "response": "response", "header": "header",
            "data": "data structure", "record": "KRaft metadata record"}[msg.kind]
    b = ['<h1 id="top">%s</h1>' % esc(msg.name)]
    facts = ["<dt>Kind</dt><dd>%s</dd>" % kind]
    if msg.kind in ("request", "response"):
        facts.append('<dt>API key</dt><dd><a class="apikey" href="apis.html#key-%d">%d %s</a></dd>'
                     % (msg.api_key, msg.api_key, esc(api_names.get(msg.api_key, ""))))
    elif msg.kind == "record":
        facts.append("<dt>Record type</dt><dd>%d</dd>" % msg.api_key)
    facts.append("<dt>Versions</dt><dd>%s</dd>" % vt(kwgen, msg.versions))
    facts.append("<dt>Flexible versions</dt><dd>%s</dd>" % (
        vt(kwgen, (msg.flexible, kwgen.VMAX)) if msg.flexible is not None else "none"))
    facts.append("<dt>C view</dt><dd>%s</dd>" % links.code(root.cname))
    src, first = about[msg.name]
    facts.append("<dt>Defined in</dt><dd><code>lib/defs/%s</code>%s</dd>" % (
        esc(src), (": " + esc(first)) if first else ""))
    b.append('<dl class="facts">%s</dl>' % "".join(facts))
    rc = root.cname
    fns = ["KW_API extern const kw_message_info %s_info;" % rc,
           "kw_err %s_decode(kw_reader *r, int16_t version, %s *out, kw_decode_error *err);" % (rc, rc),
           "kw_err %s_encode(kw_builder *b, int16_t version, const %s *msg);" % (rc, rc),
           "kw_err %s_materialize(%s *view, kw_arena *arena);" % (rc, rc)]
    structs = kwgen.ordered_structs(msg)
    array_structs = {f.struct.name for st in structs + [root] for f in st.fields if f.is_array and f.is_struct}
    for st in structs:
        if st.name in array_structs:
            fns.append("bool %s_next(kw_array_iter *it, %s *out);" % (st.cname, st.cname))
    b.append('<h2 id="functions">Functions</h2>')
    b.append("<p>Generated in <code>kwire/messages.h</code>: decode a body with <code>_decode</code>, "
             "write one with <code>_encode</code>, walk an array of structs with <code>_next</code> "
             "(see <a href=\"header-message.html\">kwire/message.h</a>).</p>")
    b.append("<pre><code>%s</code></pre>" % links.code("\n".join(fns)))

    b.append('<h2 id="versions">Version ranges</h2>')
    rows = []
    for a, z in version_segments(kwgen, msg):
        present = [f for f in msg.fields if a >= f.versions[0] and a <= f.versions[1]]
        flex = msg.flexible is not None and a >= msg.flexible
        names = ", ".join('<a href="#f-%s-%s">%s</a>' % (rc, f.name, esc(f.cname())) for f in present)
        rows.append("<tr><td>%s</td><td>%s</td><td>%s</td></tr>" % (
            vt(kwgen, (a, z)), "yes" if flex else "no", names or "<em>no fields</em>"))
    b.append('<table class="versions"><thead><tr><th>versions</th><th>flexible</th>'
             '<th>top-level fields</th></tr></thead><tbody>%s</tbody></table>' % "".join(rows))
    b.append("<p>A range ends where a field anywhere in the message appears, leaves, or "
             "changes nullability or tagging.</p>")

    for st in [root] + structs[::-1]:
        is_root = st is root
        b.append('<h2 id="%s"><code>%s</code>%s</h2>' % (
            st.cname, esc(st.cname), "" if is_root else " <span class=\"kind\">struct %s</span>" % esc(st.name)))
        if not st.fields:
            b.append("<p>No fields in any version.</p>")
            continue
        rows = []
        for f in st.fields:
            typ = ("[]" if f.is_array else "") + f.type
            if f.is_struct:
                typ = '%s<a href="#%s">%s</a>' % ("[]" if f.is_array else "", f.struct.cname, esc(f.type))
            tagged = ("tag %d in %s" % (f.tag, vt(kwgen, f.tagged))) if f.tag is not None else ""
            default = "" if f.default is None else ("''" if f.default == "" else f.default)
            notes = []
            if f.ignorable:
                notes.append("ignorable")
            if f.never_flexible:
                notes.append("classic encoding in flexible versions")
            if kwgen.has_presence(f):
                notes.append("<code>has_%s</code> tells presence" % esc(f.name))
            if f.type == "int16" and not f.is_array and f.name.endswith("error_code"):
                notes.append('a <a href="errors.html#kafka">Kafka error code</a> '
                             '(<code>kw_kafka_error_name</code>)')
            rows.append('<tr id="f-%s-%s"><td><code>%s</code></td><td>%s</td><td><code>%s</code></td>'
                        '<td>%s</td><td>%s</td><td>%s</td><td><code>%s</code></td><td>%s</td></tr>' % (
                            st.cname, f.name, esc(f.cname()), field_ctype(kwgen, f, links), typ,
                            vt(kwgen, f.versions), "" if kwgen.empty(f.nullable) else vt(kwgen, f.nullable),
                            tagged, esc(default), ", ".join(notes)))
        b.append('<table class="fields"><thead><tr><th>member</th><th>C type</th><th>wire type</th>'
                 '<th>versions</th><th>nullable</th><th>tagged</th><th>default</th><th>notes</th>'
                 '</tr></thead><tbody>%s</tbody></table>' % "".join(rows))
    return "\n".join(b)


KIND_TITLES = [("request", "Requests"), ("response", "Responses"), ("header", "Headers"),
               ("data", "Data structures"), ("record", "KRaft metadata records")]


def load_kafka_errors(root):
    """(code, name, retriable, meaning): names and retriable from the library's list
    (KW_KAFKA_ERROR_LIST in kwire/kafka_error.h), meanings from doc/kafka_errors.txt, which must
    name the same codes."""
    with open(os.path.join(root, "include", "kwire", "kafka_error.h"), encoding="utf-8") as fh:
        rows = [(n, r) for n, c, r in
                re.findall(r'X\(([A-Z0-9_]+), (-?\d+), (true|false)\)', fh.read())]
    meanings = {}
    with open(os.path.join(root, "doc", "kafka_errors.txt"), encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip() or line.startswith("#"):
                continue
            m = re.match(r"(-?\d+)\s+([A-Z0-9_]+)\s+(.+)$", line.rstrip("\n"))
            if not m:
                raise SystemExit("gen_docs: kafka_errors.txt:%d: expected CODE NAME MEANING" % lineno)
            meanings[int(m.group(1))] = (m.group(2), m.group(3).strip())
    errors = []
    for i, (name, retriable) in enumerate(rows):
        code = i - 1
        if meanings.get(code, (None,))[0] != name:
            raise SystemExit("gen_docs: kafka_errors.txt lacks %d %s (kwire/kafka_error.h has it)"
                             % (code, name))
        errors.append((code, name, retriable == "true", meanings.pop(code)[1]))
    if meanings:
        raise SystemExit("gen_docs: kafka_errors.txt has codes kwire/kafka_error.h lacks: %s"
                         % sorted(meanings))
    return errors


def kwire_errors(root):
    with open(os.path.join(root, "include", "kwire", "common.h"), encoding="utf-8") as fh:
        text = fh.read()
    return [(m.group(1), int(m.group(2)), m.group(3))
            for m in re.finditer(r'X\((\w+),\s*(-?\d+),\s*"([^"]*)"\)', text)]


def errors_body(kafka, kw):
    names = {c: n for c, n, _, _ in kafka}
    b = ['<h1 id="top">Error codes</h1>',
         '<p>Kafka answers every failed request with an int16 error code in the response '
         '(<code>error_code</code> fields). kwire decodes them as plain <code>int16_t</code> values; '
         '<a href="header-kafka_error.html#kw_kafka_error_name"><code>kw_kafka_error_name</code></a> and '
         '<a href="header-kafka_error.html#kw_kafka_error_retriable"><code>kw_kafka_error_retriable</code></a> '
         'give a code\'s name and whether sending the request again may succeed. '
         'This table gives their names and meaning, after the '
         '<a href="https://kafka.apache.org/protocol#protocol_error_codes">Kafka protocol guide</a>. '
         'kwire\'s own decoder errors follow <a href="#kwire">below</a>.</p>',
         '<h2 id="kafka">Kafka error codes</h2>',
         '<table class="errors"><thead><tr><th>code</th><th>name</th><th>retriable</th><th>meaning</th>'
         '</tr></thead><tbody>']
    for code, name, retriable, meaning in kafka:
        b.append('<tr id="error-%d"><td>%d</td><td><code id="%s">%s</code></td><td>%s</td><td>%s</td></tr>'
                 % (code, code, name, name, "yes" if retriable else "no", esc(meaning)))
    b.append("</tbody></table>")
    b.append('<h2 id="kwire">kwire errors (<code>kw_err</code>)</h2>')
    b.append('<p>What <a href="header-common.html#kw_err"><code>kw_err</code></a> values mean, from '
             'the one list in <code>kwire/common.h</code>, and the Kafka code a broker answers with '
             '(<a href="header-common.html#kw_err_kafka_code"><code>kw_err_kafka_code</code></a>).</p>')
    b.append('<table class="errors"><thead><tr><th>constant</th><th>meaning</th><th>Kafka code</th>'
             '</tr></thead><tbody>')
    for name, kafka_code, msg in kw:
        ref = '<a href="#error-%d">%d %s</a>' % (kafka_code, kafka_code, names.get(kafka_code, "")) \
            if kafka_code in names else str(kafka_code)
        b.append('<tr id="KW_ERR_%s"><td><code>KW_ERR_%s</code></td><td>%s</td><td>%s</td></tr>' % (
            name, name, esc(msg), ref))
    b.append("</tbody></table>")
    return "\n".join(b)


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    out = argv[1]
    root = os.path.abspath(argv[2] if len(argv) > 2 else os.path.join(HERE, ".."))
    os.makedirs(out, exist_ok=True)
    links = Links()
    search = []

    headers = []
    for path in sorted(glob.glob(os.path.join(root, "include", "kwire", "*.h"))):
        with open(path, encoding="utf-8") as fh:
            headers.append((os.path.basename(path), parse_header(fh.read()), False))
    kwgen, messages, about, files = load_messages(root)
    headers.append(("messages.h", parse_header(generated_header(kwgen, files)), True))
    headers.sort(key=lambda h: h[0])

    for name, (_, decls, _), _ in headers:
        for d in decls:
            links.add(d.name, "%s#%s" % (header_page(name), d.name))
            search.append([d.name, "%s#%s" % (header_page(name), d.name), "%s in kwire/%s" % (d.kind, name)])
    for m in messages:
        p = message_page(m)
        rc = m.root.cname
        links.add(rc, p)
        search.append([rc, p, "%s view (%s)" % (m.name, m.kind)])
        search.append([m.name, p, m.kind])
        for suffix in ("_info", "_decode", "_encode", "_materialize"):
            links.add(rc + suffix, p + "#functions")
        for st in m.structs.values():
            links.add(st.cname, "%s#%s" % (p, st.cname))
            links.add(st.cname + "_next", p + "#functions")
            search.append([st.cname, "%s#%s" % (p, st.cname), "struct %s of %s" % (st.name, m.name)])

    api_names = {m.api_key: m.name[:-len("Request")] for m in messages if m.kind == "request"}

    for name, (file_doc, decls, notes), gen in headers:
        body = header_body(name, file_doc, decls, notes, links, gen)
        if gen:
            body += "\n<h2 id=\"views\">Message views</h2>\n<p>Besides these, messages.h holds one " \
                    "view type with its functions per message: see the <a href=\"index.html#messages\">" \
                    "message index</a>.</p>"
        write(out, header_page(name), page("kwire/" + name, body))

    for m in messages:
        write(out, message_page(m), page(m.name, message_body(kwgen, m, about, links, api_names)))

    # API keys
    by_key = {}
    for m in messages:
        if m.kind in ("request", "response"):
            by_key.setdefault(m.api_key, {})[m.kind] = m
    rows = []
    for key in sorted(by_key):
        req, rsp = by_key[key].get("request"), by_key[key].get("response")
        const = "KW_API_" + kwgen.snake(api_names[key]).upper()
        cells = []
        for mm in (req, rsp):
            cells.append('<a href="%s">%s</a>' % (message_page(mm), esc(mm.name)) if mm else "")
        flex = vt(kwgen, (req.flexible, kwgen.VMAX)) if req.flexible is not None else "none"
        rows.append('<tr id="key-%d"><td>%d</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>' % (
            key, key, links.code(const), cells[0], cells[1], vt(kwgen, req.versions), flex))
    apis = ['<h1 id="top">API keys</h1>',
            '<p>Every Kafka API key kwire knows, with its <a href="header-api.html#kw_api_key">'
            '<code>kw_api_key</code></a> constant, its request and response, valid versions and the '
            'first flexible version.</p>',
            '<table class="apis"><thead><tr><th>key</th><th>constant</th><th>request</th><th>response</th>'
            '<th>versions</th><th>flexible</th></tr></thead><tbody>%s</tbody></table>' % "".join(rows)]
    write(out, "apis.html", page("API keys", "\n".join(apis)))

    # errors
    kafka = load_kafka_errors(root)
    write(out, "errors.html", page("Error codes", errors_body(kafka, kwire_errors(root))))
    for code, name, _, _ in kafka:
        search.append([name, "errors.html#error-%d" % code, "Kafka error %d" % code])

    # guide
    with open(os.path.join(root, "doc", "guide.md"), encoding="utf-8") as fh:
        guide, toc = markdown(fh.read(), links)
    toc_html = '<nav class="guide-toc"><ul>%s</ul></nav>' % "".join(
        '<li class="l%d"><a href="#%s">%s</a></li>' % (lvl, hid, inline(t)) for lvl, hid, t in toc if lvl == 2)
    write(out, "guide.html", page("Guide", toc_html + guide))
    for lvl, hid, t in toc:
        if lvl <= 2:
            search.append([re.sub(r"`", "", t), "guide.html#" + hid, "guide section"])

    # index
    idx = ['<h1 id="top">kwire reference</h1>',
           '<p>kwire reads and writes the Apache Kafka wire protocol in C11: zero-copy views over '
           'the caller\'s bytes and back-to-front builders. Start with the <a href="guide.html">guide</a>; '
           'look names up below or with the search box.</p>',
           '<ul class="quick"><li><a href="guide.html">Guide</a>: decode, iterate, build, send; records '
           'and compression; errors</li><li><a href="apis.html">API keys</a>: every request and response '
           'by key</li><li><a href="errors.html">Error codes</a>: Kafka\'s error codes and kwire\'s own</li>'
           '<li><a href="search.html">Search</a> every name</li></ul>',
           '<h2 id="headers">Headers</h2>', '<table class="headers"><tbody>']
    for name, (file_doc, decls, _), gen in headers:
        first = re.split(r"(?<=[.:])\s", file_doc.replace("\n", " "), maxsplit=1)[0] if file_doc else ""
        idx.append('<tr><td><a href="%s"><code>kwire/%s</code></a></td><td>%d declarations</td><td>%s</td></tr>' % (
            header_page(name), name, len(decls), esc(first)))
    idx.append("</tbody></table>")
    idx.append('<h2 id="messages">Messages by API key</h2>')
    idx.append('<table class="apis"><thead><tr><th>key</th><th>request</th><th>response</th></tr></thead><tbody>')
    for key in sorted(by_key):
        cells = ['<a href="%s">%s</a>' % (message_page(by_key[key][k]), esc(by_key[key][k].name))
                 if k in by_key[key] else "" for k in ("request", "response")]
        idx.append('<tr><td><a href="apis.html#key-%d">%d</a></td><td>%s</td><td>%s</td></tr>' % (
            key, key, cells[0], cells[1]))
    idx.append("</tbody></table>")
    for kind, title in KIND_TITLES[2:]:
        ms = sorted((m for m in messages if m.kind == kind), key=lambda m: (m.api_key, m.name))
        idx.append('<h2 id="%s">%s</h2>' % ("records" if kind == "record" else kind, title))
        idx.append('<ul class="messages">%s</ul>' % "".join(
            '<li><a href="%s">%s</a>%s</li>' % (message_page(m), esc(m.name),
                                                " (type %d)" % m.api_key if kind == "record" else "")
            for m in ms))
    write(out, "index.html", page("Reference", "\n".join(idx)))

    # search
    write(out, "search-index.js", "var KW_SEARCH_INDEX = %s;\n" % json.dumps(search, separators=(",", ":")))
    sbody = ('<h1 id="top">Search</h1>\n<form class="search-page" action="search.html" method="get">'
             '<input id="q" type="search" name="q" placeholder="kw_produce_request, OFFSET_OUT_OF_RANGE, '
             'Fetch ..." aria-label="Search names"> <button type="submit">Search</button></form>\n'
             '<p id="search-status">Type a name: functions, types, macros, messages, structs, error codes.</p>\n'
             '<ol id="search-results"></ol>')
    write(out, "search.html", page("Search", sbody, scripts=("search-index.js", "search.js")))
    for f in ("style.css", "search.js"):
        shutil.copy(os.path.join(HERE, f), os.path.join(out, f))
    os.utime(out)  # the folder is the build target: its time says when it was made
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
