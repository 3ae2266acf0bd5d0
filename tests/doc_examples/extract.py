#!/usr/bin/env python3
"""The C examples of the project's Markdown documents, as programs.

  extract.py list DOC.md...             one line per ```c block, tab-separated:
                                        name, document, index, args, expect
  extract.py write DOC.md INDEX OUT.c   writes block INDEX of DOC.md to OUT.c

Every ```c block is a whole program. The line before it says how to run it:
  <!-- example: args="tests/vectors/kcat/x.bin" expect="text on its stdout" -->
(args relative to the source root, split as a shell would). A block without
that line is listed with an empty expect, which its test reports as an error.
Missing documents are skipped (the guide exists only once it is written).
"""
import os
import re
import sys

MARK = re.compile(r'<!--\s*example:\s*args="([^"]*)"\s*expect="([^"]*)"\s*-->')


def blocks(path):
    """(args, expect, code) of every ```c block of path, in order."""
    out = []
    lines = open(path, encoding="utf-8").read().split("\n")
    i = 0
    while i < len(lines):
        if lines[i].strip() == "```c":
            mark = None
            j = i - 1
            while j >= 0 and lines[j].strip() == "":
                j -= 1
            if j >= 0:
                mark = MARK.search(lines[j])
            k = i + 1
            while k < len(lines) and lines[k].strip() != "```":
                k += 1
            code = "\n".join(lines[i + 1:k]) + "\n"
            out.append((mark.group(1) if mark else "", mark.group(2) if mark else "", code))
            i = k
        i += 1
    return out


def name_of(doc, index):
    stem = os.path.splitext(os.path.basename(doc))[0].lower()
    return "%s-example-%d" % (re.sub(r"[^a-z0-9]+", "-", stem), index + 1)


def main(argv):
    if len(argv) >= 2 and argv[1] == "list":
        for doc in argv[2:]:
            if not os.path.exists(doc):
                continue
            for i, (args, expect, _) in enumerate(blocks(doc)):
                print("\t".join([name_of(doc, i), doc, str(i), args, expect]))
        return 0
    if len(argv) == 5 and argv[1] == "write":
        _, _, doc, index, out = argv
        code = blocks(doc)[int(index)][2]
        with open(out, "w", encoding="utf-8") as f:
            f.write("/* %s, example %d: generated from the document by %s */\n"
                    % (os.path.basename(doc), int(index) + 1, os.path.basename(__file__)))
            f.write(code)
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
