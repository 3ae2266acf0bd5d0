#!/usr/bin/env python3
"""kwire-broker against Apache Kafka 4.4: the same request script, the same answers.

Runs diff-client (diff_client.c) against a fresh kwire-broker and a fresh
single-node Kafka 4.4 (tests/kafka/kafka.sh), both configured alike (node id
1, one default partition, no auto-creation, max.message.bytes 1048588,
offsets topic replication 1, no initial rebalance delay), and compares the
two streams of decoded answers field by field.

Not compared, because they must differ between two brokers:
  - throttle_time_ms, host, port, cluster_id, finalized_features_epoch;
  - topic_id, member_id, JoinGroup's leader and every producer_id: compared by
    role (the step and path where the run first showed that value), so "the
    same topic id as CreateTopics gave" still has to hold, and the zero UUID and the script's unknown one stay themselves;
  - error_message texts: only null against non-null is compared.
Node ids are compared: both brokers are node 1. Authorized-operations fields
are compared as they come (Kafka runs the StandardAuthorizer with ANONYMOUS
as super user); their differences are listed like any other.

Arrays of objects that carry a name (or group_id, partition_index, index,
api_key) are matched by it, not by position, so the order a broker lists
topics in is not a difference; everything else is matched by position.

Every other difference must be listed in known_differences.txt, one line
each, fields separated by " | ":
    STEP vVERSION | PATH | KWIRE VALUE | KAFKA VALUE | REASON
STEP and PATH may use * for any text (nothing else is special); the values are JSON
("-" for a field one side does not have). The test fails on a difference the
list does not allow and on a listed line that matched nothing (so the list
stays true). Exit 77 when java or the Kafka jars are missing.

Development: --write-known FILE writes every difference in that form, with
the reasons of the lines already listed and "TODO" for new ones; --outputs
KWIRE.jsonl KAFKA.jsonl compares two saved runs without starting anything.
"""
import argparse
import glob
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

MISSING = "-"
IGNORED = {"throttle_time_ms", "host", "port", "cluster_id", "finalized_features_epoch"}
BY_ROLE = {"topic_id", "member_id", "leader", "producer_id"}
ZERO_UUID = "AAAAAAAAAAAAAAAAAAAAAA"
UNKNOWN_UUID = "WhF-VwECAwQFBgcICQoLDA"  # diff_client.c's unknown_topic_id
MATCH_KEYS = ("name", "group_id", "partition_index", "index", "api_key", "topic_name",
              "resource_name", "key", "partition")
CLIENT_TIMEOUT = 150


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_client(client, addr, out_path):
    with open(out_path, "w") as out, open(out_path + ".stderr", "w") as err:
        rc = subprocess.run([client, addr], stdout=out, stderr=err,
                            timeout=CLIENT_TIMEOUT).returncode
    return rc


def run_kwire(args, work):
    d = os.path.join(work, "kwire")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    props = os.path.join(d, "server.properties")
    with open(props, "w") as f:
        f.write("node.id=1\nnum.partitions=1\nauto.create.topics.enable=false\n"
                "group.initial.rebalance.delay.ms=0\ngroup.consumer.heartbeat.interval.ms=1000\n")
    port = free_port()
    log = open(os.path.join(d, "broker.log"), "w")
    proc = subprocess.Popen([args.broker, props, "--listen", "127.0.0.1:%d" % port,
                             "--data-dir", os.path.join(d, "data"), "--no-down-conversion"],
                            stdout=subprocess.PIPE, stderr=log, text=True)
    try:
        line = proc.stdout.readline()  # "kwire-broker: listening on HOST:PORT"
        if "listening on" not in line:
            raise SystemExit("kwire-broker did not start: %r (see %s)" % (line, log.name))
        out = os.path.join(work, "kwire.jsonl")
        rc = run_client(args.client, "127.0.0.1:%d" % port, out)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
    # SIGTERM is a clean exit: anything else (a sanitizer report, a crash) fails the test
    if proc.returncode != 0:
        with open(log.name) as f:
            sys.stdout.write(f.read()[-4000:])
        raise SystemExit("FAIL: kwire-broker exited %d after SIGTERM" % proc.returncode)
    return out, rc


def start_kafka(args, work):
    d = os.path.join(work, "kafka")
    os.makedirs(d, exist_ok=True)
    return d, subprocess.Popen(["bash", args.kafka_sh, "start", d], stdout=subprocess.PIPE,
                               text=True)


def run_kafka(args, d, starter):
    try:
        addr, _ = starter.communicate(timeout=150)
        if starter.returncode != 0:
            raise SystemExit("kafka.sh start failed (see %s/kafka.out)" % d)
        out = os.path.join(os.path.dirname(d), "kafka.jsonl")
        rc = run_client(args.client, addr.strip().splitlines()[-1], out)
        return out, rc
    finally:
        if starter.poll() is None:
            starter.kill()
        subprocess.run(["bash", args.kafka_sh, "stop", d], timeout=60)


# ---- comparing ----------------------------------------------------------------------------------

class Roles:
    """Values of one run named by where they first appear (step and path)."""

    def __init__(self):
        self.seen = {}
        self.step = ""

    def of(self, field, value, path):
        if value in (None, ZERO_UUID, UNKNOWN_UUID, "", -1):
            return value
        key = (field if field != "leader" else "member_id", json.dumps(value))
        if key not in self.seen:
            self.seen[key] = "%s %s" % (self.step, path)
        return "<%s first at %s>" % (key[0], self.seen[key])


def key_text(v):
    return v if isinstance(v, str) else json.dumps(v)


def match_key(items):
    if not items or not all(isinstance(i, dict) for i in items):
        return None
    for k in MATCH_KEYS:
        vals = [json.dumps(i.get(k)) for i in items]
        if all(k in i for i in items) and len(set(vals)) == len(vals):
            return k
    return None


def normalize(value, path, roles):
    """Applies the rules above to one side's answer; path as diff() spells it."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            p = path + "." + k
            if k in IGNORED:
                continue
            if k == "error_message":
                out[k] = None if v is None else "<text>"
            elif k in BY_ROLE and not isinstance(v, (dict, list)):
                out[k] = roles.of(k, v, p)
            else:
                out[k] = normalize(v, p, roles)
        return out
    if isinstance(value, list):
        key = match_key(value)
        if key:
            return [normalize(v, "%s[%s=%s]" % (path, key, key_text(v[key])), roles)
                    for v in value]
        return [normalize(v, "%s[%d]" % (path, i), roles) for i, v in enumerate(value)]
    return value


def diff(a, b, path, out):
    """Appends (path, kwire value, kafka value) for every difference of a and b."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in list(a) + [k for k in b if k not in a]:
            p = path + "." + k
            if k not in b:
                out.append((p, a[k], MISSING))
            elif k not in a:
                out.append((p, MISSING, b[k]))
            else:
                diff(a[k], b[k], p, out)
        return
    if isinstance(a, list) and isinstance(b, list):
        if not a or not b:  # one side empty: one difference, not one per element
            if a != b:
                out.append((path, a, b))
            return
        key = match_key(a) if a else match_key(b)
        if key and (not b or match_key(b) == key) and (not a or match_key(a) == key):
            ia = {json.dumps(i[key]): i for i in a}
            ib = {json.dumps(i[key]): i for i in b}
            for k in list(ia) + [k for k in ib if k not in ia]:
                p = "%s[%s=%s]" % (path, key, key_text(json.loads(k)))
                if k not in ib:
                    out.append((p, ia[k], MISSING))
                elif k not in ia:
                    out.append((p, MISSING, ib[k]))
                else:
                    diff(ia[k], ib[k], p, out)
            return
        for i in range(max(len(a), len(b))):
            p = "%s[%d]" % (path, i)
            if i >= len(b):
                out.append((p, a[i], MISSING))
            elif i >= len(a):
                out.append((p, MISSING, b[i]))
            else:
                diff(a[i], b[i], p, out)
        return
    if a != b:
        out.append((path, a, b))


def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def step_label(line):
    return "%s v%d" % (line["step"], line["version"])


def api_keys_extra(kw, kf):
    """ApiVersions: the APIs only Kafka serves become one difference, not one per API."""
    extra = []
    rkw, rkf = kw.get("response"), kf.get("response")
    if not (isinstance(rkw, dict) and isinstance(rkf, dict)):
        return extra
    akw, akf = rkw.get("api_keys"), rkf.get("api_keys")
    if not (isinstance(akw, list) and isinstance(akf, list)) or not akw:
        return extra
    served = {k["api_key"] for k in akw}
    only_kafka = sorted(k["api_key"] for k in akf if k["api_key"] not in served)
    if only_kafka:
        rkf["api_keys"] = [k for k in akf if k["api_key"] in served]
        extra.append((".response.api_keys[only Kafka]", [], only_kafka))
    return extra


def compare(kwire_lines, kafka_lines):
    diffs = []  # (step, path, kwire, kafka)
    roles_kw, roles_kf = Roles(), Roles()
    if len(kwire_lines) != len(kafka_lines):
        diffs.append(("run", ".steps", len(kwire_lines), len(kafka_lines)))
    for kw, kf in zip(kwire_lines, kafka_lines):
        if (kw["step"], kw["version"]) != (kf["step"], kf["version"]):
            diffs.append(("run", ".order", step_label(kw), step_label(kf)))
            break
        label = step_label(kw)
        roles_kw.step = roles_kf.step = label
        found = api_keys_extra(kw, kf)
        a = normalize({k: v for k, v in kw.items() if k not in ("step", "api", "version")},
                      "", roles_kw)
        b = normalize({k: v for k, v in kf.items() if k not in ("step", "api", "version")},
                      "", roles_kf)
        diff(a, b, "", found)
        diffs.extend((label, p, x, y) for p, x, y in found)
    return diffs


def value_text(v):
    return v if v == MISSING else json.dumps(v, sort_keys=True, separators=(",", ":"))


def load_known(path):
    known = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            parts = [p.strip() for p in line.split(" | ")]
            if len(parts) != 5:
                raise SystemExit("%s:%d: want 5 fields separated by ' | ', got %d"
                                 % (path, n, len(parts)))
            known.append({"line": n, "step": parts[0], "path": parts[1], "kwire": parts[2],
                          "kafka": parts[3], "reason": parts[4], "used": 0})
    return known


def canonical(text):
    if text == MISSING:
        return text
    try:
        return value_text(json.loads(text))
    except ValueError:
        return text


def glob_match(text, pattern):
    return re.fullmatch(".*".join(re.escape(p) for p in pattern.split("*")), text) is not None


def allowed(known, d):
    step, path, kw, kf = d
    for k in known:
        if (glob_match(step, k["step"]) and glob_match(path, k["path"])
                and canonical(k["kwire"]) == value_text(kw)
                and canonical(k["kafka"]) == value_text(kf)):
            k["used"] += 1
            return k
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--client")
    ap.add_argument("--broker")
    ap.add_argument("--kafka-sh")
    ap.add_argument("--known", required=True)
    ap.add_argument("--work-dir", default="/tmp/kafka-differential")
    ap.add_argument("--outputs", nargs=2, metavar=("KWIRE", "KAFKA"))
    ap.add_argument("--write-known", metavar="FILE")
    args = ap.parse_args()

    started = time.monotonic()
    if args.outputs:
        kwire_out, kafka_out = args.outputs
        rc_kw = rc_kf = 0
    else:
        lib = os.environ.get("KAFKA_LIB", os.path.join(os.path.dirname(args.kafka_sh), "lib"))
        if not shutil.which("java") or not glob.glob(os.path.join(lib, "kafka_2.13-*.jar")):
            print("SKIP: java or the Kafka 4.4 jars (.ci/install-kafka) are missing")
            return 77
        work = os.path.abspath(args.work_dir)
        os.makedirs(work, exist_ok=True)
        # Kafka starts in the background while kwire-broker answers the script.
        kafka_dir, starter = start_kafka(args, work)
        try:
            kwire_out, rc_kw = run_kwire(args, work)
        except BaseException:
            starter.kill()
            subprocess.run(["bash", args.kafka_sh, "stop", kafka_dir], timeout=60)
            raise
        kafka_out, rc_kf = run_kafka(args, kafka_dir, starter)
        print("runs done in %.1f s" % (time.monotonic() - started))

    kwire_lines, kafka_lines = load(kwire_out), load(kafka_out)
    failed = False
    for name, rc, out in (("kwire-broker", rc_kw, kwire_out), ("Kafka", rc_kf, kafka_out)):
        lines = kwire_lines if out == kwire_out else kafka_lines
        undecoded = [step_label(l) for l in lines if "decode_error" in l]
        if rc != 0 or undecoded:
            failed = True
            print("FAIL: diff-client against %s exited %d; answers kwire could not decode: %s"
                  % (name, rc, undecoded or "none"))
            if os.path.exists(out + ".stderr"):
                with open(out + ".stderr") as f:
                    print("  " + "  ".join(f.readlines()[-10:]))
        for l in lines:
            if "decode_error" in l:
                print("  %s: %s" % (step_label(l), l["decode_error"]))

    diffs = compare(kwire_lines, kafka_lines)
    known = load_known(args.known)
    new = []
    for d in diffs:
        if not allowed(known, d):
            new.append(d)
    for step, path, kw, kf in new:
        print("DIFFERENT %s %s: kwire-broker %s, Kafka %s" % (step, path, value_text(kw),
                                                               value_text(kf)))
    stale = [k for k in known if not k["used"]]
    for k in stale:
        print("STALE %s:%d (no longer differs): %s | %s | %s | %s"
              % (args.known, k["line"], k["step"], k["path"], k["kwire"], k["kafka"]))

    if args.write_known:
        with open(args.write_known, "w") as f:
            for step, path, kw, kf in diffs:
                k = next((k for k in known if glob_match(step, k["step"])
                          and glob_match(path, k["path"])
                          and canonical(k["kwire"]) == value_text(kw)
                          and canonical(k["kafka"]) == value_text(kf)), None)
                f.write(" | ".join([step, path, value_text(kw), value_text(kf),
                                    k["reason"] if k else "TODO"]) + "\n")

    print("%d steps against each broker; %d differences: %d listed in %s (%d lines), "
          "%d not listed, %d listed lines stale"
          % (len(kwire_lines), len(diffs), len(diffs) - len(new), os.path.basename(args.known),
             len(known), len(new), len(stale)))
    return 1 if failed or new or stale else 0


if __name__ == "__main__":
    sys.exit(main())
