#!/usr/bin/env python3
"""docs-browser: generates the reference into a temporary folder, renders a
representative set of pages in headless Chromium and checks what the DOM holds
after the scripts ran; then checks every internal link and anchor of every page
from the generated HTML. Exit 0 pass, 1 fail, 77 skip (no chromium).

usage: check_docs.py [SOURCE_ROOT]
Standard library only.
"""
import glob
import html
import html.parser
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg)


class Page(html.parser.HTMLParser):
    """Ids, hrefs and element counts of one document."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids, self.hrefs, self.tags, self.h1 = set(), [], {}, ""
        self.in_h1 = False
        self.classes = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags[tag] = self.tags.get(tag, 0) + 1
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "a" and a.get("href"):
            self.hrefs.append(a["href"])
        for c in (a.get("class") or "").split():
            self.classes[c] = self.classes.get(c, 0) + 1
        if tag == "h1":
            self.in_h1 = True

    def handle_endtag(self, tag):
        if tag == "h1":
            self.in_h1 = False

    def handle_data(self, data):
        if self.in_h1:
            self.h1 += data


def parse(text):
    p = Page()
    p.feed(text)
    return p


HARNESS = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>harness</title></head><body><div id="out"></div>
<script>
// Loads each page in an iframe, one after the other, and keeps its DOM (after the
// page's own scripts ran) as the text of a <textarea id="dump-N">, so one
// Chromium run renders them all; --dump-dom then prints the lot.
var pages = %s;
var i = 0, out = document.getElementById('out');
function next() {
  if (i >= pages.length) { document.title = 'done'; return; }
  var f = document.createElement('iframe');
  f.onload = function () {
    var t = document.createElement('textarea');
    t.id = 'dump-' + i;
    try { t.textContent = f.contentDocument.documentElement.outerHTML; }
    catch (e) { t.textContent = 'ERROR ' + e; }
    out.appendChild(t);
    f.remove();
    i++;
    next();
  };
  f.src = pages[i];
  document.body.appendChild(f);
}
next();
</script></body></html>
"""


def render_all(out, pages):
    """{page: DOM text after its scripts ran, or None} from one headless Chromium run."""
    harness = os.path.join(out, "check-harness.html")
    with open(harness, "w", encoding="utf-8") as fh:
        fh.write(HARNESS % json.dumps(pages))
    profile = tempfile.mkdtemp(prefix="kwire-chromium-")
    # --allow-file-access-from-files lets the harness read its file:// iframes;
    # --virtual-time-budget lets every load and script finish before the dump.
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
           "--no-first-run", "--allow-file-access-from-files", "--virtual-time-budget=60000",
           "--user-data-dir=" + profile, "--dump-dom", "file://" + harness]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=90)
    except subprocess.TimeoutExpired:
        fail("chromium timed out")
        return {}
    finally:
        shutil.rmtree(profile, ignore_errors=True)
        os.remove(harness)
    if r.returncode != 0 or "<html" not in r.stdout:
        fail("chromium exit %d: %s" % (r.returncode, r.stderr.strip()[-300:]))
        return {}
    if "<title>done</title>" not in r.stdout:
        fail("chromium: the harness did not get through every page")
    dumps = {}
    for i, name in enumerate(pages):
        m = re.search(r'<textarea id="dump-%d">(.*?)</textarea>' % i, r.stdout, re.S)
        text = html.unescape(m.group(1)) if m else None
        if text is not None and text.startswith("ERROR "):
            fail("%s: %s" % (name, text))
            text = None
        dumps[name] = text
    return dumps


def check_links(out):
    """Every href to a local file resolves, and so does its #fragment."""
    pages = {}
    for path in glob.glob(os.path.join(out, "*.html")):
        with open(path, encoding="utf-8") as fh:
            pages[os.path.basename(path)] = parse(fh.read())
    checked = 0
    for name, p in sorted(pages.items()):
        for href in p.hrefs:
            u = urllib.parse.urlsplit(href)
            if u.scheme or u.netloc:
                continue  # the one outside link (Kafka's protocol guide) is not ours to check
            target = u.path or name
            if target not in pages:
                if not os.path.exists(os.path.join(out, target)):
                    fail("%s: link to missing file %s" % (name, href))
                continue
            if u.fragment and urllib.parse.unquote(u.fragment) not in pages[target].ids:
                fail("%s: link %s: no id %r in %s" % (name, href, u.fragment, target))
            checked += 1
    print("links: %d internal links on %d pages checked" % (checked, len(pages)))
    return pages


def main(argv):
    root = os.path.abspath(argv[1] if len(argv) > 1 else os.path.join(HERE, ".."))
    if not (os.access(CHROMIUM, os.X_OK) or shutil.which(CHROMIUM)):
        print("SKIP: %s not installed (.ci/install-docs installs it)" % CHROMIUM)
        return 77
    out = tempfile.mkdtemp(prefix="kwire-docs-check-")
    try:
        r = subprocess.run([sys.executable, os.path.join(root, "doc", "gen_docs.py"), out, root],
                           capture_output=True, text=True)
        if r.returncode != 0:
            print(r.stdout + r.stderr)
            fail("gen_docs.py exited %d" % r.returncode)
            return 1
        pages = check_links(out)

        headers = sorted(os.path.basename(h) for h in glob.glob(os.path.join(root, "include", "kwire", "*.h")))
        msgs = sorted(n for n in pages if n.startswith("msg-"))
        # What each rendered page must show: (page, h1 text, {element or class: minimum count}, [ids])
        expect = [
            ("index.html", "kwire reference", {"tr": 95 + len(headers)}, ["headers", "messages", "records"]),
            ("guide.html", "Guide", {"pre": 5, "h2": 4},
             ["decode-and-iterate", "build-and-send", "records-and-compression", "errors"]),
            ("errors.html", "Error codes", {"tr": 130}, ["error--1", "error-0", "error-1", "KW_ERR_TRUNCATED"]),
            ("apis.html", "API keys", {"tr": 96}, ["key-0", "key-94"]),
            ("header-messages.html", "kwire/messages.h", {"section": 5}, ["kw_read_request_frame"]),
            ("msg-produce_request.html", "ProduceRequest", {"table": 4},
             ["kw_produce_request", "kw_produce_request_topic_produce_data",
              "f-kw_produce_request_topic_produce_data-partition_data"]),
            ("msg-fetch_response.html", "FetchResponse", {"table": 3}, ["kw_fetch_response"]),
            ("msg-request_header.html", "RequestHeader", {"table": 2}, ["functions", "versions"]),
        ]
        for h in headers:
            p = pages.get("header-%s.html" % h[:-2])
            want = max(len(p.ids & {x for x in p.ids if x.startswith(("kw_", "KW_"))}), 0) if p else 0
            expect.append(("header-%s.html" % h[:-2], "kwire/" + h, {"section": want}, []))
        # a sample of the other message pages, spread over the list
        for n in msgs[::max(1, len(msgs) // 8)]:
            expect.append((n, pages[n].h1.strip(), {"table": 2}, ["functions"]))
        queries = [("search.html?q=kw_produce_request", "msg-produce_request.html"),
                   ("search.html?q=OFFSET_OUT_OF_RANGE", "errors.html#error-1"),
                   ("search.html?q=kw_reader_init", "header-cursor.html#kw_reader_init")]

        dumped = render_all(out, [e[0] for e in expect] + [q for q, _ in queries])
        for name, h1, counts, ids in expect:
            dom = dumped.get(name)
            if dom is None:
                fail("%s: not rendered" % name)
                continue
            p = parse(dom)
            if p.h1.strip() != h1:
                fail("%s: h1 is %r, expected %r" % (name, p.h1.strip(), h1))
            for what, n in counts.items():
                got = p.tags.get(what, 0) + p.classes.get(what, 0)
                if got < n:
                    fail("%s: %d <%s>, expected at least %d" % (name, got, what, n))
            for i in ids:
                if i not in p.ids:
                    fail("%s: no element with id %r" % (name, i))
        for q, want in queries:
            dom = dumped.get(q)
            if dom is None:
                fail("%s: not rendered" % q)
                continue
            m = re.search(r'<ol id="search-results">(.*?)</ol>', dom, re.S)
            hits = re.findall(r'<a href="([^"]+)" class="hit"', m.group(1)) if m else []
            if not hits or hits[0] != want:
                fail("%s: first result %r, expected %r (after the script ran)" % (
                    q, hits[0] if hits else None, want))
        print("chromium: %d pages and %d searches rendered and checked" % (len(expect), len(queries)))
    finally:
        shutil.rmtree(out, ignore_errors=True)
    if failures:
        print("docs-browser: %d failures" % len(failures))
        return 1
    print("docs-browser: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
