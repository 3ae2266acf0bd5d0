#!/usr/bin/env python3
"""run.py RECORDS_ORACLE: record batches between kwire and Apache Kafka 4.4.

One JVM (RecordsOracle.java, compiled here) answers commands on stdin.
  1. Java writes its cases; kwire walks each (its description must equal
     Java's field by field), rebuilds it (uncompressed: byte-identical;
     compressed: the same content) and Java validates the rebuild.
  2. kwire writes its own cases; Java validates each (ensureValid) and its
     description must equal the one kwire derived from the spec.
One line per failing case, then "records-oracle: N passed, M failed".
Exit 0 when all pass, 1 otherwise, 77 without the jars, java or javac.
KW_RECORDS_KEEP=DIR keeps the case files there.
"""
import glob
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import common  # noqa: E402  (tests/oracle/common.py)


def main():
    oracle = sys.argv[1]
    lib = common.kafka_lib()
    with common.scratch("kwire-records-oracle.", "KW_RECORDS_KEEP") as tmp:
        return run(oracle, lib, tmp)


def run(oracle, lib, tmp):
    cp = common.compile_java(os.path.join(HERE, "RecordsOracle.java"), lib, tmp, "records-oracle")
    if cp is None:
        return 1
    jvm = subprocess.Popen(["java", "-cp", cp, "RecordsOracle"],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, text=True, bufsize=1)

    def ask(line):
        jvm.stdin.write(line + "\n")
        jvm.stdin.flush()
        return jvm.stdout.readline().strip()

    passed, failed = 0, 0
    kinds = {}
    identical = {}

    def bad(name, why):
        nonlocal failed
        failed += 1
        print(f"FAIL {name}: {why}")

    def read(path):
        with open(path) as f:
            return f.read()

    jdir = os.path.join(tmp, "java")
    answer = ask(f"gen {jdir}")
    if not answer.startswith("ok"):
        print(f"records-oracle: Java gen failed: {answer}")
        return 1
    print(f"java gen: {answer}")
    for txt in sorted(glob.glob(os.path.join(jdir, "*.txt"))):
        name = os.path.basename(txt)[:-4]
        base = txt[:-4]
        chk = subprocess.run([oracle, "check", base + ".bin", base + ".kw", base + ".rebuilt"],
                             capture_output=True, text=True)
        status = chk.stdout.strip()
        kind = kind_of(name)
        kinds[kind] = kinds.get(kind, 0) + 1
        if not os.path.exists(base + ".kw"):
            bad(name, f"kwire walk: {status or chk.stderr.strip()}")
            continue
        want, got = read(txt), read(base + ".kw")
        if want != got:
            bad(name, "kwire's walk differs from Java's: " + first_diff(want, got))
            continue
        if chk.returncode != 0 or not status.startswith("rebuild "):
            bad(name, status or chk.stderr.strip())
            continue
        ident = status.startswith("rebuild identical")
        compressed = re.search(r"-(gzip|snappy|lz4|zstd)", name) is not None
        identical[name] = ident
        if not compressed and not ident:
            bad(name, f"uncompressed rebuild not byte-identical: {status}")
            continue
        ans = ask(f"validate {base}.rebuilt {base}.rebuilt.java")
        if ans != "ok":
            bad(name, f"Java rejects kwire's rebuild: {ans}")
            continue
        # Java's view of the rebuild equals Java's view of the original, CRCs aside.
        if strip_crc(read(base + ".rebuilt.java")) != strip_crc(want):
            bad(name, "Java reads kwire's rebuild differently: "
                + first_diff(strip_crc(want), strip_crc(read(base + ".rebuilt.java"))))
            continue
        passed += 1

    kdir = os.path.join(tmp, "kwire")
    os.makedirs(kdir)
    gen = subprocess.run([oracle, "gen", kdir], capture_output=True, text=True)
    if gen.returncode != 0:
        print(f"records-oracle: kwire gen failed: {gen.stdout}{gen.stderr}")
        return 1
    print(f"kwire {gen.stdout.strip()}")
    for txt in sorted(glob.glob(os.path.join(kdir, "*.txt"))):
        name = os.path.basename(txt)[:-4]
        base = txt[:-4]
        kind = kind_of(name)
        kinds[kind] = kinds.get(kind, 0) + 1
        ans = ask(f"validate {base}.bin {base}.java")
        if ans != "ok":
            bad(name, f"Java rejects kwire's batch: {ans}")
            continue
        want, got = read(txt), strip_crc(read(base + ".java"))
        if want != got:
            bad(name, "Java reads kwire's batch differently: " + first_diff(want, got))
            continue
        passed += 1

    jvm.stdin.close()
    jvm.wait(timeout=60)
    print("cases by kind: " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))
    comp = sorted(n for n in identical if re.search(r"-(gzip|snappy|lz4|zstd)", n))
    same = [n for n in comp if identical[n]]
    print(f"compressed Java cases rebuilt byte-identical: {len(same)} of {len(comp)}"
          + (f" ({' '.join(same)})" if same else ""))
    print(f"records-oracle: {passed} passed, {failed} failed")
    return 0 if failed == 0 and passed > 0 else 1


def kind_of(name):
    """java|kwire, magic, codec, flags: 'java v2 gzip transactional'."""
    side = "kwire" if name.startswith("kw-") else "java"
    n = name[3:] if side == "kwire" else name
    parts = n.split("-")
    if parts[0] == "control":
        return f"{side} v2 none control"
    if parts[0] == "legacy":
        return f"{side} {parts[1]} {parts[2]}" + (" logappend" if "logappend" in parts else "")
    if parts[0] == "v2":
        parts = parts[1:]
    return f"{side} v2 {parts[0]} {'-'.join(parts[1:])}"


def strip_crc(text):
    return re.sub(r" crc=\S+", " crc=*", text)


def first_diff(a, b):
    al, bl = a.splitlines(), b.splitlines()
    for i in range(max(len(al), len(bl))):
        x = al[i] if i < len(al) else "<none>"
        y = bl[i] if i < len(bl) else "<none>"
        if x != y:
            return f"line {i + 1}: expected '{x}' got '{y}'"
    return "same lines"


if __name__ == "__main__":
    sys.exit(main())
