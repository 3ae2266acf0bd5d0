#!/usr/bin/env python3
"""run.py MSG_ORACLE: every request, response and KRaft record version,
kwire against Apache Kafka's generated message classes (kafka-clients and
kafka-metadata 4.4.0).

One JVM (MessageOracle.java, compiled here) answers commands on stdin.
  (a) kwire -> Java: msg-oracle writes seeded instances of every version
      with every tagged field set; Java reads each (all bytes), re-encodes
      it to the same bytes, and its JSON must equal kwire's field by field.
  (b) Java -> kwire: this script draws random JSON for every version from
      Kafka's own schemas (the common/message files inside kafka-clients,
      common/metadata inside kafka-metadata),
      Java reads it through the message's JsonConverter and encodes it;
      kwire decodes those bytes, re-encodes them to the same bytes, and its
      JSON must equal Java's.
Versions only kwire defines (Kafka 4 dropped them) are counted, not checked.
One line per failing instance, then the counts and
"message-oracle: N passed, M failed". Exit 0 when all pass, 1 otherwise,
77 without the jars, java or javac. KW_ORACLE_SEEDS sets the instances per
version (default 3); KW_ORACLE_KEEP=DIR keeps the files there.
"""
import base64
import glob
import json
import os
import random
import subprocess
import sys
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import common  # noqa: E402  (tests/oracle/common.py)


class Oracle:
    """The JVM: one command in, its answer lines up to "end ..." out."""

    def __init__(self, cp):
        self.proc = subprocess.Popen(["java", "-cp", cp, "MessageOracle"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)

    def ask(self, command):
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        lines = []
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError(f"MessageOracle ended during '{command}'")
            line = line.rstrip("\n")
            if line.startswith("end"):
                return lines, line.split()[1:]
            lines.append(line)

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def failures(lines):
    """{file: why} from "fail FILE: why" lines."""
    out = {}
    for line in lines:
        if line.startswith("fail "):
            name, _, why = line[5:].partition(": ")
            out[name] = why
    return out


def instance(name):
    """NAME.VERSION.SEED.suffix -> NAME.VERSION.SEED"""
    return ".".join(name.split(".")[:3])


# ---- Kafka's schemas and random JSON from them ------------------------------

def strip_comments(text):
    """Kafka's schema files are JSON with // comments."""
    out, i, in_string = [], 0, False
    while i < len(text):
        c = text[i]
        if in_string:
            out.append(c)
            if c == "\\":
                out.append(text[i + 1])
                i += 1
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
            out.append(c)
        elif text.startswith("//", i):
            while i < len(text) and text[i] != "\n":
                i += 1
            continue
        else:
            out.append(c)
        i += 1
    return "".join(out)


def load_schemas(lib):
    """Requests and responses (kafka-clients) and KRaft records (kafka-metadata) by name."""
    schemas = {}
    for pattern, folder in (("kafka-clients-*.jar", "common/message/"),
                            ("kafka-metadata-*.jar", "common/metadata/")):
        for jar in sorted(glob.glob(os.path.join(lib, pattern)))[:1]:
            with zipfile.ZipFile(jar) as z:
                for entry in z.namelist():
                    if entry.startswith(folder) and entry.endswith(".json"):
                        s = json.loads(strip_comments(z.read(entry).decode("utf-8")))
                        if s.get("type") in ("request", "response", "metadata"):
                            schemas[s["name"]] = s
    return schemas


def has(spec, v):
    """A Kafka version spec ("3+", "0-5", "7", "none") holds v."""
    if spec is None or spec == "none":
        return False
    if spec.endswith("+"):
        return v >= int(spec[:-1])
    lo, _, hi = spec.partition("-")
    return int(lo) <= v <= int(hi or lo)


INT_RANGES = {"int8": 8, "int16": 16, "int32": 32, "int64": 64}


def letters(rng, lo, hi):
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(lo, hi)))


def default_of(field):
    d = field.get("default")
    if d is None or d == "null":
        return None
    if isinstance(d, str):
        if d in ("true", "false"):
            return d == "true"
        try:
            return int(d, 0)
        except ValueError:
            return d
    return d


class Drawer:
    """Random JSON for one schema at one version, as its JsonConverter reads it."""

    def __init__(self, schema, version, rng):
        self.structs = {s["name"]: s["fields"] for s in schema.get("commonStructs", [])}
        self.version = version
        self.rng = rng

    def struct(self, fields, not_default, depth):
        obj = {}
        for f in fields:
            if not has(f.get("versions"), self.version):
                continue
            tagged = has(f.get("taggedVersions"), self.version)
            # the converters spell "ErrorCode" as "errorCode"
            key = f["name"][0].lower() + f["name"][1:]
            obj[key] = self.field(f, not_default or tagged, depth)
        return obj

    def field(self, f, not_default, depth):
        rng = self.rng
        t = f["type"]
        nullable = has(f.get("nullableVersions"), self.version) and not not_default
        if t.startswith("[]"):
            if nullable and rng.random() < 0.2:
                return None
            n = rng.randint(1, 2) if not_default else (0 if depth > 3 else rng.randint(0, 3))
            return [self.element(t[2:], f, not_default, depth + 1) for _ in range(n)]
        return self.element(t, f, not_default, depth, nullable)

    def element(self, t, f, not_default, depth, nullable=False):
        rng = self.rng
        if t in INT_RANGES or t in ("uint16", "uint32"):
            if t in INT_RANGES:
                bits = INT_RANGES[t]
                x = rng.randint(-(1 << (bits - 1)), (1 << (bits - 1)) - 1)
            else:
                x = rng.randint(0, (1 << (16 if t == "uint16" else 32)) - 1)
            if not_default and x == default_of(f):
                x = x - 1 if x > 0 else x + 1
            return x
        if t == "bool":
            d = default_of(f)
            return (not d) if not_default else rng.random() < 0.5
        if t == "float64":
            return rng.randint(-(1 << 31), 1 << 31) / 8.0 + (0.5 if not_default else 0.0)
        if t == "uuid":
            raw = bytes(rng.getrandbits(8) for _ in range(16))
            if not_default and raw == bytes(16):
                raw = bytes(15) + b"\x01"
            return base64.urlsafe_b64encode(raw).decode().rstrip("=")
        if t in ("string", "bytes", "records"):
            if nullable and rng.random() < 0.25:
                return None
            s = letters(rng, 1 if not_default else 0, 6)
            if not_default and s == default_of(f):
                s += "x"
            return s if t == "string" else base64.b64encode(s.encode()).decode()
        if nullable and rng.random() < 0.3:
            return None
        fields = f.get("fields") if "fields" in f else self.structs[t]
        return self.struct(fields, not_default, depth + 1)


# ---- comparing kwire's JSON with Java's -------------------------------------

def norm(key):
    return key.replace("_", "").lower()


def same(kw, java, path, out):
    """Appends to out where kwire's JSON (kw) and Java's differ."""
    if isinstance(kw, dict) and isinstance(java, dict):
        kwn = {norm(k): v for k, v in kw.items()}
        javan = {norm(k): v for k, v in java.items()}
        for k, jv in javan.items():
            if k in kwn:
                same(kwn.pop(k), jv, f"{path}.{k}", out)
            elif k.endswith("sizeinbytes") and k[:-11] in kwn:
                # Java gives a records field's size; kwire its bytes in hex
                hexed = kwn.pop(k[:-11])
                if not isinstance(hexed, str) or len(hexed) // 2 != jv:
                    out.append(f"{path}.{k}: kwire {hexed!r}, Java {jv!r}")
            else:
                out.append(f"{path}.{k}: only Java has it ({jv!r})")
        for k, kv in kwn.items():
            out.append(f"{path}.{k}: only kwire has it ({kv!r})")
        return
    if isinstance(kw, list) and isinstance(java, list):
        if len(kw) != len(java):
            out.append(f"{path}: kwire has {len(kw)} elements, Java {len(java)}")
            return
        for i, (a, b) in enumerate(zip(kw, java)):
            same(a, b, f"{path}[{i}]", out)
        return
    if kw == java and type(kw) is type(java):
        return
    if isinstance(kw, (int, float)) and isinstance(java, (int, float)) and \
            not isinstance(kw, bool) and not isinstance(java, bool) and float(kw) == float(java):
        return
    if isinstance(kw, str) and isinstance(java, str):
        # bytes: kwire prints hex, Java base64
        try:
            if base64.b64encode(bytes.fromhex(kw)).decode() == java:
                return
        except ValueError:
            pass
    out.append(f"{path}: kwire {kw!r}, Java {java!r}")


def first_leaf(obj):
    """Path (keys and indexes) to the first number or string in obj, or None."""
    if isinstance(obj, dict):
        items = obj.items()
    elif isinstance(obj, list):
        items = enumerate(obj)
    else:
        return [] if isinstance(obj, (int, str)) and not isinstance(obj, bool) else None
    for k, v in items:
        rest = first_leaf(v)
        if rest is not None:
            return [k] + rest
    return None


def comparison_can_fail(base):
    """The comparison itself, checked: one changed value in kwire's JSON must show."""
    with open(base + ".kw.json") as f:
        kw = json.load(f)
    with open(base + ".java.json") as f:
        java = json.load(f)
    path = first_leaf(kw)
    if path is None:
        return True
    node = kw
    for k in path[:-1]:
        node = node[k]
    leaf = node[path[-1]]
    node[path[-1]] = leaf + 1 if isinstance(leaf, int) else leaf + "zz"
    out = []
    same(kw, java, "", out)
    return bool(out)


def compare(base):
    try:
        with open(base + ".kw.json") as f:
            kw = json.load(f)
        with open(base + ".java.json") as f:
            java = json.load(f)
    except (OSError, ValueError) as e:
        return [f"JSON: {e}"]
    out = []
    same(kw, java, "", out)
    return out


# ---- the run ----------------------------------------------------------------

def main():
    oracle = sys.argv[1]
    lib = common.kafka_lib()
    seeds = int(os.environ.get("KW_ORACLE_SEEDS", "3"))
    with common.scratch("kwire-message-oracle.", "KW_ORACLE_KEEP") as tmp:
        return run(oracle, lib, tmp, seeds)


def run(oracle, lib, tmp, seeds):
    cp = common.compile_java(os.path.join(HERE, "MessageOracle.java"), lib, tmp, "message-oracle")
    if cp is None:
        return 1
    java = Oracle(cp)
    try:
        lines, _ = java.ask("list")
        known = {}
        for line in lines:
            _, name, lo, hi = line.split()
            known[name] = (int(lo), int(hi))
        java_versions = sum(hi - lo + 1 for lo, hi in known.values())
        bad = {}
        a_ok, a_total = kwire_to_java(oracle, java, known, tmp, seeds, bad)
        b_ok, b_total = java_to_kwire(oracle, java, known, lib, tmp, seeds, bad)
    finally:
        java.close()
    for name in sorted(bad):
        print(f"FAIL {name}: {bad[name]}")
    records = sum(1 for n in known if not n.endswith(("Request", "Response")))
    print(f"Kafka 4.4.0's classes know {len(known)} messages ({len(known) - records} requests "
          f"and responses, {records} KRaft records), {java_versions} versions; "
          f"{seeds} instances of each, both ways")
    print(f"oracle: {a_ok} of {a_total} agree (kwire -> Java), {b_ok} of {b_total} agree "
          f"(Java -> kwire)")
    passed, failed = a_ok + b_ok, (a_total - a_ok) + (b_total - b_ok)
    print(f"message-oracle: {passed} passed, {failed} failed")
    return 0 if not bad and passed > 0 else 1


def kwire_to_java(oracle, java, known, tmp, seeds, bad):
    d = os.path.join(tmp, "kwire")
    os.makedirs(d)
    gen = subprocess.run([oracle, "gen", d, str(seeds)], capture_output=True, text=True)
    kw_fail = failures(gen.stdout.splitlines())
    if gen.returncode != 0 or not gen.stdout.rstrip().splitlines()[-1:][0].startswith("end"):
        bad["msg-oracle gen"] = gen.stdout[-2000:] + gen.stderr[-2000:]
        return 0, 1
    # only what kafka-clients 4.4 knows: versions Kafka 4 dropped stay kwire's own
    kwire_only = 0
    for f in os.listdir(d):
        name, version = f.split(".")[0], int(f.split(".")[1])
        lo, hi = known.get(name, (0, -1))
        if not lo <= version <= hi:
            os.remove(os.path.join(d, f))
            kwire_only += f.endswith(".bin")
    # kwire's own round trip must hold for every version, Java's or not
    for name, why in kw_fail.items():
        bad[f"kwire->java {name}"] = why
    lines, _ = java.ask(f"decode {d}")
    java_fail = failures(lines)
    probe = os.path.join(d, "ProduceResponse.13.0")
    if os.path.exists(probe + ".java.json") and not comparison_can_fail(probe):
        bad["self-check"] = "a changed value in kwire's JSON went unnoticed"
    total, ok = 0, 0
    for name, (lo, hi) in known.items():
        for v in range(lo, hi + 1):
            for seed in range(seeds):
                base = f"{name}.{v}.{seed}"
                total += 1
                if f"kwire->java {base}" in bad:
                    continue
                why = java_fail.get(base + ".bin")
                diffs = [why] if why else compare(os.path.join(d, base))
                if diffs:
                    bad[f"kwire->java {base}"] = "; ".join(diffs[:5])
                else:
                    ok += 1
    print(f"kwire -> Java: {kwire_only} instances of versions only kwire defines left out")
    return ok, total


def java_to_kwire(oracle, java, known, lib, tmp, seeds, bad):
    d = os.path.join(tmp, "java")
    os.makedirs(d)
    schemas = load_schemas(lib)
    total = 0
    for name, (lo, hi) in sorted(known.items()):
        schema = schemas.get(name)
        for v in range(lo, hi + 1):
            for seed in range(seeds):
                base = f"{name}.{v}.{seed}"
                total += 1
                if schema is None:
                    bad[f"java->kwire {base}"] = "no schema in kafka-clients for it"
                    continue
                rng = random.Random(f"{base}")
                obj = Drawer(schema, v, rng).struct(schema["fields"], False, 0)
                with open(os.path.join(d, base + ".in.json"), "w") as f:
                    json.dump(obj, f)
    lines, _ = java.ask(f"encode {d}")
    java_fail = failures(lines)
    check = subprocess.run([oracle, "check", d], capture_output=True, text=True)
    kw_fail = failures(check.stdout.splitlines())
    ok = 0
    for name, (lo, hi) in known.items():
        for v in range(lo, hi + 1):
            for seed in range(seeds):
                base = f"{name}.{v}.{seed}"
                if f"java->kwire {base}" in bad:
                    continue
                why = java_fail.get(base + ".in.json") or kw_fail.get(base + ".bin")
                diffs = [why] if why else compare(os.path.join(d, base))
                if diffs:
                    bad[f"java->kwire {base}"] = "; ".join(diffs[:5])
                else:
                    ok += 1
    return ok, total


if __name__ == "__main__":
    sys.exit(main())
