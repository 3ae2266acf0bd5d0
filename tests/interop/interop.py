#!/usr/bin/env python3
"""kwire-broker acceptance tests against real Kafka clients.

  interop.py roundtrip --client kcat|confluent-kafka-python|kafka-python|kafkajs|
                                confluent-kafka-pypi|java|franz-go --broker PATH
  interop.py restart   --broker PATH [--segcheck PATH]
  interop.py crash     --broker PATH --segcheck PATH
  interop.py hostile   --broker PATH
  interop.py old-formats --broker PATH [--segcheck PATH]

Each test starts its own broker(s) on 127.0.0.1 (a free port) with a fresh
data directory under $TMPDIR, drives a client or two against it, and stops
everything it started, by PID, however it ends. Exit status: 0 passed,
1 failed, 77 skipped (the client it needs is not installed).
Last line: "interop-<test>: N passed, M failed", counting the test's checks.

roundtrip  one client: create a 3-partition topic through the client's admin
           API (kcat: auto-creation, broker --partitions 3), produce 10,000
           keyed messages with headers, consume them back through a consumer
           group, each exactly once, intact, in order per partition; committed
           offsets equal end offsets (drivers/, node/driver.js). Then the
           broker must stop cleanly on SIGTERM and its segments pass segcheck.
           confluent-kafka-pypi (the newest confluent-kafka from PyPI, in
           tests/interop/venv) consumes through a group of two members that
           rebalances (confluent_driver.py --rebalance); java (Kafka's Java
           clients 4.4, java/InteropClient.java) and franz-go (go/main.go)
           also produce idempotently with every codec, rebalance two members
           and make the admin calls the broker serves (listed there).
restart    produce 20,000 messages (confluent-kafka-python, acks=all), read
           them and commit a group's offsets, SIGTERM, start again on the
           same data dir and address, read all of them back exactly where they
           were acknowledged, find the group's committed offsets unchanged;
           produce 1,000 more, which must follow without a gap or an overlap;
           segments pass segcheck.
crash      --fsync always: a producer streams messages with acks=all, recording
           every acknowledgement; the broker is killed with SIGKILL mid-stream.
           A torn write is then simulated (the head of the last batch appended
           again, cut short, to each partition's newest segment). After a
           restart every acknowledged message must be served where its ack said,
           nothing served may be torn or corrupt (the consumer checks CRCs),
           new messages must follow the recovered log, and after a clean stop
           segcheck must find no partial or corrupt batch.
hostile    --max-frame-bytes 1 MiB: while confluent-kafka-python (else kcat)
           runs a 3,000-message round trip, hostile.py opens 2 x 200
           connections of garbage, truncated, negative and oversized frames,
           huge array counts, unknown API keys and versions, corrupt batches,
           slow partial frames and idle connections. The broker must stay up,
           answer ApiVersions afterwards, answer the valid requests hostile.py
           sends slowly or pipelined, let the client pass, close the hostile
           connections (its open sockets back to the baseline), append none
           of the batches with a bad CRC, and keep its
           resident memory (VmRSS, sampled every 50 ms) under RSS_LIMIT_MB
           (200 MB; 600 MB when the broker is built with AddressSanitizer,
           whose shadow memory and quarantine count in RSS).

limits     the broker under an open-file limit of 1,024 and
           --queued-max-request-bytes 16 MiB while confluent-kafka-python (else
           kcat, kafka-python) runs a 3,000-message round trip: six Metadata
           requests naming 2,000 new topics each create at most 100 each and
           only what the open-file limit allows in all, ten connections each sending 8 MB of a 12 MB frame
           grow its VmRSS by less than the budget plus 24 MB (64 MB under
           AddressSanitizer), the client
           passes, and the broker stops cleanly, leaves no half-created topic
           and starts again on its data directory serving the topics there.

old-formats kafka-python pinned to old protocol versions: producers at
           api_version (0, 9) (magic 0), (0, 10, 0) (magic 1, gzip) and its
           newest write to one partition, readers at (0, 9), (0, 10, 0),
           (0, 10, 1) and the newest read all of it back in order, intact
           (drivers/old_formats_driver.py); the log holds v2 batches only.

Restart and crash run the broker with --segment-bytes 262144 when its --help
lists that option, so that logs span several segment files.

Environment: KW_INTEROP_PYTHON, a python3 that imports confluent_kafka /
kafka (default: the first of /usr/bin/python3, this interpreter, python3 on
PATH that does); KW_INTEROP_KEEP=1 keeps the data directories.
"""
import argparse
import atexit
import os
import re
import select
import shutil
import struct
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import kproto  # noqa: E402

SKIP = 77
RSS_LIMIT_MB = 200
RSS_LIMIT_ASAN_MB = 600
SEGMENT_BYTES = 256 * 1024
LISTEN_RE = re.compile(r"kwire-broker: listening on (\S+):(\d+)")

_procs = []  # every process started here: killed by PID (or its own group) at exit


def log(msg):
    sys.stderr.write("[%s] %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


def _cleanup():
    for p in _procs:
        if p.poll() is None:
            try:
                if getattr(p, "own_group", False):
                    os.killpg(p.pid, signal.SIGKILL)
                else:
                    p.kill()
            except OSError:
                pass
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass


def _on_signal(sig, _frame):
    _cleanup()
    sys.exit(128 + sig)


atexit.register(_cleanup)
signal.signal(signal.SIGTERM, _on_signal)
signal.signal(signal.SIGINT, _on_signal)


class Checks:
    def __init__(self, name):
        self.name = name
        self.passed = 0
        self.failed = []

    def check(self, what, ok, detail=""):
        if ok:
            self.passed += 1
            log("PASS %s%s" % (what, (": " + detail) if detail else ""))
        else:
            self.failed.append(what)
            log("FAIL %s%s" % (what, (": " + detail) if detail else ""))
        return ok

    def finish(self):
        for f in self.failed:
            log("failed: " + f)
        print("interop-%s: %d passed, %d failed" % (self.name, self.passed, len(self.failed)))
        sys.stdout.flush()
        return 0 if not self.failed else 1


def skip(msg):
    log("SKIP: " + msg)
    print("interop: skipped (%s)" % msg)
    sys.exit(SKIP)


# ---- clients -------------------------------------------------------------------

def python_for(module):
    cands = []
    if os.environ.get("KW_INTEROP_PYTHON"):
        cands.append(os.environ["KW_INTEROP_PYTHON"])
    cands += ["/usr/bin/python3", sys.executable]
    w = shutil.which("python3")
    if w:
        cands.append(w)
    seen = set()
    for p in cands:
        if not p or p in seen or not os.access(p, os.X_OK):
            continue
        seen.add(p)
        try:
            r = subprocess.run([p, "-c", "import " + module], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if r.returncode == 0:
            return p
    return None


def client_command(client):
    """argv prefix that runs the driver of client, or None if not installed."""
    d = os.path.join(HERE, "drivers")
    if client == "kcat":
        if not shutil.which("kcat"):
            return None
        return [sys.executable, os.path.join(d, "kcat_driver.py")]
    if client == "confluent-kafka-python":
        py = python_for("confluent_kafka")
        return [py, os.path.join(d, "confluent_driver.py")] if py else None
    if client == "kafka-python":
        py = python_for("kafka")
        return [py, os.path.join(d, "kafka_python_driver.py")] if py else None
    if client == "kafkajs":
        node = shutil.which("node") or shutil.which("nodejs")
        nd = os.path.join(HERE, "node")
        if not node or not os.path.isfile(os.path.join(nd, "node_modules", "kafkajs", "package.json")):
            return None
        return [node, os.path.join(nd, "driver.js")]
    if client == "confluent-kafka-pypi":
        # confluent-kafka from PyPI (its own librdkafka), in the venv .ci/install-interop makes
        py = os.path.join(HERE, "venv", "bin", "python3")
        if not os.access(py, os.X_OK):
            return None
        return [py, os.path.join(d, "confluent_driver.py"), "--rebalance", "--client-name", client]
    if client == "java":  # compiles at run time; exits 77 without the jars, java or javac
        return ["bash", os.path.join(HERE, "java", "run.sh")]
    if client == "franz-go":  # builds at run time; exits 77 without go or the modules
        return ["bash", os.path.join(HERE, "go", "run.sh")]
    raise SystemExit("unknown client " + client)


CLIENTS = ["kcat", "confluent-kafka-python", "kafka-python", "kafkajs", "confluent-kafka-pypi",
           "java", "franz-go"]


INSTALL_HINT = {
    "kcat": "apt-get install kcat",
    "confluent-kafka-python": "apt-get install python3-confluent-kafka",
    "kafka-python": "apt-get install python3-kafka",
    "kafkajs": "apt-get install nodejs npm; cd tests/interop/node && npm ci",
    "confluent-kafka-pypi": "bash .ci/install-interop (a venv in tests/interop/venv)",
    "java": "bash .ci/install-kafka (tests/kafka/lib), a JDK",
    "franz-go": "bash .ci/install-interop (go mod download in tests/interop/go)",
}


def run_proc(argv, timeout, label, stdout_path=None):
    """Runs argv in its own process group (so that it and its children can be
    killed together); its stderr goes to ours. Returns (rc, stdout text)."""
    t0 = time.time()
    out = open(stdout_path, "w+") if stdout_path else tempfile.TemporaryFile("w+")
    p = subprocess.Popen(argv, stdout=out, stderr=sys.stderr, stdin=subprocess.DEVNULL,
                         start_new_session=True)
    p.own_group = True
    _procs.append(p)
    try:
        rc = p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        log("%s: still running after %.0f s, killed" % (label, timeout))
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
        rc = None
    out.seek(0)
    text = out.read()
    out.close()
    log("%s: rc=%s in %.1f s" % (label, rc, time.time() - t0))
    return rc, text


def last_line(text):
    lines = [x for x in text.strip().split("\n") if x.strip()]
    return lines[-1] if lines else ""


# ---- the broker -----------------------------------------------------------------

def is_asan(path):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return False
    return b"__asan_init" in data


def broker_supports(exe, option):
    """Whether `exe --help` lists option (for options beyond the contract
    the tests rely on: --listen, --data-dir, --partitions, --fsync,
    --max-frame-bytes)."""
    try:
        r = subprocess.run([exe, "--help"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           stdin=subprocess.DEVNULL, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return option.encode() in r.stdout


def small_segments(exe):
    """Small segments, so that restart and recovery cross segment files,
    where the broker has the option."""
    if broker_supports(exe, "--segment-bytes"):
        return ["--segment-bytes", str(SEGMENT_BYTES)]
    log("broker has no --segment-bytes: one segment per partition")
    return []


class Broker:
    def __init__(self, exe, data_dir, args, logdir, name="broker", nofile=None):
        self.nofile = nofile  # an open-file limit (soft and hard) for the broker, or None
        self.exe = exe
        self.data_dir = data_dir
        self.args = list(args)
        self.logdir = logdir
        self.name = name
        self.proc = None
        self.port = None
        self.host = "127.0.0.1"
        self.starts = 0

    @property
    def bootstrap(self):
        return "%s:%d" % (self.host, self.port)

    def start(self, port=None, timeout=20.0):
        self.starts += 1
        want = port or 0  # 0: the kernel picks; the broker prints the port it got
        self.log_path = os.path.join(self.logdir, "%s-%d.log" % (self.name, self.starts))
        err = open(self.log_path, "w")
        env = dict(os.environ)
        if is_asan(self.exe):
            # bounded quarantine, so RSS stays comparable; leaks still reported at exit
            env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=32").lstrip(":")
        argv = [self.exe, "--listen", "127.0.0.1:%d" % want, "--data-dir", self.data_dir] + self.args
        log("%s: %s" % (self.name, " ".join(argv)))
        limit = None
        if self.nofile:
            import resource
            limit = lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (self.nofile, self.nofile))  # noqa: E731
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=err,
                                     stdin=subprocess.DEVNULL, env=env, preexec_fn=limit)
        err.close()
        _procs.append(self.proc)
        t0 = time.time()
        buf = b""
        fd = self.proc.stdout.fileno()
        while time.time() - t0 < timeout:
            r, _, _ = select.select([fd], [], [], 0.2)
            if r:
                chunk = os.read(fd, 4096)
                if not chunk:
                    break
                buf += chunk
                m = LISTEN_RE.search(buf.decode("utf-8", "replace"))
                if m:
                    self.host, self.port = m.group(1), int(m.group(2))
                    threading.Thread(target=self._drain, daemon=True).start()
                    log("%s: pid %d listening on %s after %.2f s"
                        % (self.name, self.proc.pid, self.bootstrap, time.time() - t0))
                    return True
            elif self.proc.poll() is not None:
                break
        rc = self.proc.poll()
        log("%s: no 'listening on' line (exit status %s, stdout %r)" % (self.name, rc, buf[-200:]))
        self.dump_log()
        if rc is None:
            self.proc.kill()
            self.proc.wait()
        return False

    def _drain(self):
        try:
            while self.proc.stdout.read(65536):
                pass
        except (OSError, ValueError):
            pass

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=20.0):
        """SIGTERM; returns the exit status, or None if it had to be killed."""
        if not self.alive():
            return self.proc.returncode if self.proc else None
        t0 = time.time()
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=timeout)
            log("%s: exited with status %d %.2f s after SIGTERM" % (self.name, rc, time.time() - t0))
            return rc
        except subprocess.TimeoutExpired:
            log("%s: still running %.0f s after SIGTERM, killed" % (self.name, timeout))
            self.proc.kill()
            self.proc.wait()
            return None

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        log("%s: killed with SIGKILL" % self.name)

    def status(self, field):
        try:
            with open("/proc/%d/status" % self.proc.pid) as f:
                for line in f:
                    if line.startswith(field + ":"):
                        return int(line.split()[1])
        except (OSError, ValueError):
            pass
        return None

    def sockets(self):
        """Open sockets of the broker (listening and connected)."""
        d = "/proc/%d/fd" % self.proc.pid
        n = 0
        try:
            for fd in os.listdir(d):
                try:
                    if os.readlink(os.path.join(d, fd)).startswith("socket:"):
                        n += 1
                except OSError:
                    pass
        except OSError:
            return None
        return n

    def dump_log(self, lines=40):
        try:
            with open(self.log_path, errors="replace") as f:
                tail = f.readlines()[-lines:]
        except OSError:
            return
        log("%s: last %d lines of %s:" % (self.name, len(tail), self.log_path))
        for line in tail:
            sys.stderr.write("    " + line)
        sys.stderr.flush()


def api_versions_ok(broker, timeout=5.0):
    try:
        with kproto.Conn(broker.host, broker.port, timeout=timeout) as c:
            v = c.api_versions()
            return kproto.API_API_VERSIONS in v, "%d APIs listed" % len(v)
    except (OSError, kproto.ProtocolError) as e:
        return False, str(e)


def segcheck(checks, exe, data_dir, allow_partial, what):
    if not exe:
        return
    rc, out = run_proc([exe] + (["--allow-partial-tail"] if allow_partial else []) + [data_dir],
                       60, "segcheck")
    for line in out.strip().split("\n"):
        log("  " + line)
    checks.check(what, rc == 0, last_line(out))


class Workdir:
    def __init__(self, name):
        self.path = tempfile.mkdtemp(prefix="kwire-interop-%s-" % name)

    def sub(self, *parts):
        p = os.path.join(self.path, *parts)
        os.makedirs(p, exist_ok=True)
        return p

    def done(self, ok):
        if os.environ.get("KW_INTEROP_KEEP") or not ok:
            log("kept %s" % self.path)
        else:
            shutil.rmtree(self.path, ignore_errors=True)


# ---- the tests -------------------------------------------------------------------

def t_roundtrip(a):
    cmd = client_command(a.client)
    if cmd is None:
        skip("%s is not installed (%s)" % (a.client, INSTALL_HINT[a.client]))
    checks = Checks("roundtrip-" + a.client)
    wd = Workdir(a.client)
    partitions = 3
    # kcat cannot create topics: the broker auto-creates them with --partitions.
    # The others create theirs with the admin API, so the broker default is 1
    # and the partition count they see must come from CreateTopics.
    default_parts = partitions if a.client == "kcat" else 1
    b = Broker(a.broker, wd.sub("data"), ["--partitions", str(default_parts)], wd.path)
    if not checks.check("broker starts", b.start()):
        return checks.finish()
    t0 = time.time()
    topic = "interop-%s" % a.client.replace("-", "")
    rc, out = run_proc(cmd + ["--bootstrap", b.bootstrap, "--topic", topic, "--count", str(a.count),
                              "--partitions", str(partitions), "--timeout", "40"],
                       150, a.client)
    if rc == SKIP:
        skip("%s: %s (%s)" % (a.client, last_line(out) or "not available", INSTALL_HINT[a.client]))
    checks.check("%s round trip of %d messages" % (a.client, a.count), rc == 0,
                 "%s (%.1f s)" % (last_line(out), time.time() - t0))
    checks.check("broker still running", b.alive())
    rc = b.stop()
    checks.check("broker exits 0 on SIGTERM", rc == 0, "status %s" % rc)
    segcheck(checks, a.segcheck, b.data_dir, False, "segments intact after a clean stop")
    if checks.failed:
        b.dump_log()
    wd.done(not checks.failed)
    return checks.finish()


def t_old_formats(a):
    """kafka-python pinned to old protocol versions beside its newest, on one partition."""
    py = python_for("kafka")
    if py is None:
        skip("kafka-python is not installed (%s)" % INSTALL_HINT["kafka-python"])
    checks = Checks("old-formats")
    wd = Workdir("old-formats")
    b = Broker(a.broker, wd.sub("data"), [], wd.path)
    if not checks.check("broker starts", b.start()):
        return checks.finish()
    t0 = time.time()
    rc, out = run_proc([py, os.path.join(HERE, "drivers", "old_formats_driver.py"),
                        "--bootstrap", b.bootstrap, "--topic", "old-formats",
                        "--count", str(min(a.count, 500)), "--timeout", "30"], 200, "old-formats")
    checks.check("magic 0 and 1 producers and readers beside v2 ones", rc == 0,
                 "%s (%.1f s)" % (last_line(out), time.time() - t0))
    checks.check("broker still running", b.alive())
    rc = b.stop()
    checks.check("broker exits 0 on SIGTERM", rc == 0, "status %s" % rc)
    segcheck(checks, a.segcheck, b.data_dir, False, "the log holds v2 batches with good CRCs")
    if checks.failed:
        b.dump_log()
    wd.done(not checks.failed)
    return checks.finish()


def durable_cmd():
    py = python_for("confluent_kafka")
    if py is None:
        skip("confluent-kafka-python is not installed (apt-get install python3-confluent-kafka)")
    return [py, os.path.join(HERE, "drivers", "durable.py")]


def t_restart(a):
    cmd = durable_cmd()
    checks = Checks("restart")
    wd = Workdir("restart")
    n, more = 20000, 1000
    run = "restart-%d" % os.getpid()
    topic = "restart"
    acked = os.path.join(wd.path, "acked.txt")
    b = Broker(a.broker, wd.sub("data"), ["--partitions", "3"] + small_segments(a.broker), wd.path)
    common = ["--topic", topic, "--run", run]
    if checks.check("broker starts", b.start()):
        rc, out = run_proc(cmd + ["produce", "--bootstrap", b.bootstrap] + common
                           + ["--count", str(n), "--out", acked, "--max-seconds", "60"], 90, "produce")
        checks.check("%d messages produced and acknowledged" % n, rc == 0)
        rc, out = run_proc(cmd + ["verify", "--bootstrap", b.bootstrap] + common
                           + ["--count", str(n), "--acked", acked, "--partitions", "3", "--exact",
                              "--commit"], 90, "verify before restart")
        checks.check("all %d messages there before the restart; group offsets committed" % n,
                     rc == 0, last_line(out))
        port = b.port
        rc = b.stop()
        checks.check("broker exits 0 on SIGTERM", rc == 0, "status %s" % rc)
        if checks.check("broker starts again on the same data dir and address", b.start(port=port)):
            rc, out = run_proc(cmd + ["verify", "--bootstrap", b.bootstrap] + common
                               + ["--count", str(n), "--acked", acked, "--partitions", "3", "--exact"],
                               90, "verify after restart")
            checks.check("all %d messages back after the restart, where they were acknowledged" % n,
                         rc == 0, last_line(out))
            try:
                with kproto.Conn(b.host, b.port) as c:
                    ends = c.end_offsets(topic, [0, 1, 2])
                    got = c.committed(run + "-verify", topic, [0, 1, 2])
                checks.check("committed group offsets survive the restart", got == ends and
                             sum(ends.values()) == n, "committed %s, end offsets %s" % (got, ends))
            except (OSError, kproto.ProtocolError) as e:
                checks.check("committed group offsets survive the restart", False, str(e))
            rc, out = run_proc(cmd + ["produce", "--bootstrap", b.bootstrap] + common
                               + ["--first", str(n), "--count", str(more), "--out", acked,
                                  "--max-seconds", "60"], 90, "produce more")
            checks.check("%d more messages acknowledged after the restart" % more, rc == 0)
            rc, out = run_proc(cmd + ["verify", "--bootstrap", b.bootstrap] + common
                               + ["--count", str(n + more), "--acked", acked, "--partitions", "3",
                                  "--exact"], 90, "verify all")
            checks.check("new messages follow the old ones (no gap, no overlap)", rc == 0, last_line(out))
            checks.check("broker still running", b.alive())
            rc = b.stop()
            checks.check("broker exits 0 on SIGTERM again", rc == 0, "status %s" % rc)
            segcheck(checks, a.segcheck, b.data_dir, False, "segments intact after a clean stop")
    if checks.failed:
        b.dump_log()
    wd.done(not checks.failed)
    return checks.finish()


def newest_segments(data_dir, topic):
    """The newest *.log of every partition directory of topic (Kafka's
    layout, DIR/<topic>-<partition>/<base offset, 20 digits>.log)."""
    by_dir = {}
    pat = re.compile(re.escape(topic) + r"-\d+$")
    for root, _dirs, files in os.walk(data_dir):
        if not pat.match(os.path.basename(root)):
            continue
        logs = sorted(f for f in files if f.endswith(".log"))
        if logs:
            by_dir[root] = os.path.join(root, logs[-1])
    return sorted(by_dir.values())


def last_batch(path):
    """The file's last complete batch, or None."""
    with open(path, "rb") as f:
        data = f.read()
    pos = last = None
    p = 0
    while p + 12 <= len(data):
        n = int.from_bytes(data[p + 8:p + 12], "big", signed=True)
        if n < 14 or p + 12 + n > len(data):
            break
        last, pos = p, p + 12 + n
        p = pos
    return None if last is None else data[last:pos]


def tear_tail(path):
    """Appends the head of the partition's last complete batch, cut short, to
    its newest segment, as a torn write would leave it. The kill may come just
    after a roll, leaving the newest segment empty: the batch then comes from
    the segment before it. Returns the bytes appended (0 if none)."""
    folder = os.path.dirname(path)
    batch = None
    for seg in sorted((f for f in os.listdir(folder) if f.endswith(".log")), reverse=True):
        batch = last_batch(os.path.join(folder, seg))
        if batch is not None:
            break
    if batch is None:
        return 0
    cut = batch[:max(13, len(batch) // 2)]
    with open(path, "r+b") as f:
        f.seek(0, os.SEEK_END)
        f.write(cut)
    return len(cut)


def t_crash(a):
    cmd = durable_cmd()
    checks = Checks("crash")
    wd = Workdir("crash")
    run = "crash-%d" % os.getpid()
    topic = "crash"
    total = 2000000
    acked = os.path.join(wd.path, "acked.txt")
    acked2 = os.path.join(wd.path, "acked-after.txt")
    open(acked, "w").close()
    b = Broker(a.broker, wd.sub("data"),
               ["--partitions", "3", "--fsync", "always"] + small_segments(a.broker), wd.path)
    common = ["--topic", topic, "--run", run]
    if not checks.check("broker starts", b.start()):
        return checks.finish()
    port = b.port
    out = open(os.path.join(wd.path, "producer.out"), "w")
    p = subprocess.Popen(cmd + ["produce", "--bootstrap", b.bootstrap] + common
                         + ["--count", str(total), "--out", acked, "--stream", "--max-seconds", "40"],
                         stdout=out, stderr=sys.stderr, stdin=subprocess.DEVNULL,
                         start_new_session=True)
    p.own_group = True
    _procs.append(p)
    out.close()
    # kill once a few thousand acknowledgements are in (at most 25 s)
    t0 = time.time()
    n_acked = 0
    while time.time() - t0 < 25 and p.poll() is None and b.alive():
        with open(acked) as f:
            n_acked = sum(1 for _ in f)
        if n_acked >= 5000:
            break
        time.sleep(0.05)
    alive_before = b.alive()
    producer_running = p.poll() is None
    b.kill9()
    log("killed the broker %.1f s into the stream, %d acknowledgements recorded so far"
        % (time.time() - t0, n_acked))
    checks.check("broker survived until the kill", alive_before)
    checks.check("the producer was still sending when the broker was killed", producer_running)
    try:
        p.wait(timeout=40)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
    with open(acked) as f:
        n_acked = sum(1 for _ in f)
    checks.check("at least 1,000 messages acknowledged before the crash", n_acked >= 1000,
                 "%d acknowledged" % n_acked)
    # what the crash left on disk: a torn tail is allowed here, corruption is not
    segcheck(checks, a.segcheck, b.data_dir, True, "no corrupt batch on disk after SIGKILL")
    segs = newest_segments(b.data_dir, topic)
    torn = [(s, tear_tail(s)) for s in segs]
    checks.check("a torn write simulated at the end of every partition's newest segment",
                 len(segs) >= 3 and all(n > 0 for _s, n in torn),
                 ", ".join("%s +%d bytes" % (os.path.relpath(s, b.data_dir), n) for s, n in torn)
                 or "no *.log files found under the data dir")
    if checks.check("broker starts again after the crash", b.start(port=port)):
        rc, out = run_proc(cmd + ["verify", "--bootstrap", b.bootstrap] + common
                           + ["--count", str(total), "--acked", acked, "--partitions", "3"],
                           120, "verify after crash")
        checks.check("every acknowledged message served, nothing torn or corrupt", rc == 0,
                     last_line(out))
        # new messages must go after what survived, not into or beyond the torn tail
        open(acked2, "w").close()
        rc, out = run_proc(cmd + ["produce", "--bootstrap", b.bootstrap] + common
                           + ["--first", str(total), "--count", "1000", "--out", acked2,
                              "--max-seconds", "60"], 90, "produce after crash")
        checks.check("1,000 messages acknowledged after the restart", rc == 0)
        rc, out = run_proc(cmd + ["verify", "--bootstrap", b.bootstrap] + common
                           + ["--count", str(total + 1000), "--acked", acked, acked2,
                              "--partitions", "3"], 120, "verify all")
        checks.check("new messages follow the recovered log and are served intact", rc == 0,
                     last_line(out))
        rc = b.stop()
        checks.check("broker exits 0 on SIGTERM", rc == 0, "status %s" % rc)
        segcheck(checks, a.segcheck, b.data_dir, False,
                 "no partial or corrupt batch on disk after recovery and a clean stop")
    if checks.failed:
        b.dump_log(60)
    wd.done(not checks.failed)
    return checks.finish()


def client_beside(client, b, attack, topic, count, timeout):
    """Runs attack() while client does a round trip of count messages on topic, sampling the
    broker's VmRSS every 50 ms. Returns (the client's (status, output), peak VmRSS in kB)."""
    peak = [b.status("VmRSS") or 0]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            v = b.status("VmRSS")
            if v is not None and v > peak[0]:
                peak[0] = v
            stop.wait(0.05)

    results = {}

    def client_run():
        results["client"] = run_proc(
            client_command(client) + ["--bootstrap", b.bootstrap, "--topic", topic,
                                      "--count", str(count), "--partitions", "3",
                                      "--timeout", "40"], timeout, client)

    threads = [threading.Thread(target=sample, daemon=True), threading.Thread(target=attack),
               threading.Thread(target=client_run)]
    t0 = time.time()
    for t in threads:
        t.start()
    for t in threads[1:]:
        t.join()
    stop.set()
    threads[0].join()
    log("attack and client run took %.1f s" % (time.time() - t0))
    return results.get("client", (None, "")), peak[0]


def first_client(*names):
    for c in names:
        if client_command(c):
            return c
    skip("none of %s is installed" % ", ".join(names))


def t_hostile(a):
    client = first_client("confluent-kafka-python", "kcat")
    checks = Checks("hostile")
    wd = Workdir("hostile")
    max_frame = 1 << 20
    asan = is_asan(a.broker)
    limit_mb = RSS_LIMIT_ASAN_MB if asan else RSS_LIMIT_MB
    b = Broker(a.broker, wd.sub("data"),
               ["--partitions", "3", "--max-frame-bytes", str(max_frame)], wd.path)
    if not checks.check("broker starts", b.start()):
        return checks.finish()
    time.sleep(0.3)
    base_socks = b.sockets()
    base_rss = b.status("VmRSS")
    log("baseline: %s open sockets, VmRSS %s kB" % (base_socks, base_rss))
    results = {}

    def hostile():
        results["hostile"] = run_proc(
            [sys.executable, os.path.join(HERE, "hostile.py"), "--bootstrap", b.bootstrap,
             "--max-frame-bytes", str(max_frame), "--connections", "200", "--rounds", "2",
             "--time-limit", "60"], 120, "hostile.py")

    (crc, cout), peak = client_beside(client, b, hostile, "alongside", 3000, 150)
    alive = b.alive()
    checks.check("broker still running after the hostile connections", alive)
    rc, out = results.get("hostile", (None, ""))
    checks.check("valid requests among the hostile ones answered (slow, pipelined)", rc == 0,
                 last_line(out))
    checks.check("%s round trip of 3,000 messages alongside" % client, crc == 0, last_line(cout))
    if alive:
        ok, detail = api_versions_ok(b)
        checks.check("broker answers ApiVersions afterwards", ok, detail)
        # every peer has hung up: the broker must have closed its ends
        socks = None
        deadline = time.time() + 15
        while time.time() < deadline:
            socks = b.sockets()
            if socks is not None and base_socks is not None and socks <= base_socks:
                break
            time.sleep(0.2)
        checks.check("hostile connections closed (open sockets back to the baseline within 15 s)",
                     socks is not None and base_socks is not None and socks <= base_socks,
                     "%s now, %s at the start" % (socks, base_socks))
        # a batch with a bad CRC must not have been appended
        errs = {}
        try:
            with kproto.Conn(b.host, b.port) as c:
                ends = c.end_offsets("hostile", [0], errs)
            checks.check("no corrupt batch appended (topic 'hostile' empty or absent)",
                         ends.get(0, 0) == 0, "end offset %s, errors %s" % (ends.get(0), errs))
        except (OSError, kproto.ProtocolError) as e:
            checks.check("no corrupt batch appended (topic 'hostile' empty or absent)", False, str(e))
    peak_mb = peak / 1024.0
    log("peak VmRSS %.1f MB (baseline %.1f MB, limit %d MB%s)"
        % (peak_mb, (base_rss or 0) / 1024.0, limit_mb, ", AddressSanitizer build" if asan else ""))
    checks.check("peak RSS under %d MB" % limit_mb, peak_mb < limit_mb, "%.1f MB" % peak_mb)
    if alive:
        rc = b.stop()
        checks.check("broker exits 0 on SIGTERM", rc == 0, "status %s" % rc)
    if checks.failed:
        b.dump_log(60)
    wd.done(not checks.failed)
    return checks.finish()


def metadata_auto_create(b, names):
    """Metadata v4 naming every topic of names, auto-creation allowed: {error code: count}."""
    body = kproto.arr(names, kproto.s16) + b"\x01"
    with kproto.Conn(b.host, b.port, timeout=60) as c:
        r = c.call(kproto.API_METADATA, 4, body)
    r.i32()  # throttle
    r.array(lambda: (r.i32(), r.string(), r.i32(), r.string()))
    r.string()
    r.i32()

    def part():
        r.i16(), r.i32(), r.i32()
        r.array(r.i32), r.array(r.i32)
        return None

    counts = {}

    def top():
        err, _name, _internal = r.i16(), r.string(), r.i8()
        r.array(part)
        counts[err] = counts.get(err, 0) + 1

    r.array(top)
    return counts


def topic_dirs(data_dir):
    """Names of the topics whose partition directories are in data_dir, and staging leftovers."""
    names, staging = set(), 0
    for e in os.listdir(data_dir):
        if e.startswith("creating~"):
            staging += 1
        elif not e.startswith("__") and re.match(r"^(.+)-\d+$", e):
            names.add(re.match(r"^(.+)-\d+$", e).group(1))
    return names, staging


def t_limits(a):
    """What limits hold while an attacker works beside a real client (see the docstring)."""
    client = first_client("confluent-kafka-python", "kcat", "kafka-python")
    checks = Checks("limits")
    wd = Workdir("limits")
    nofile = 1024
    budget = 16 << 20
    frame = 12 << 20
    args = ["--partitions", "1", "--max-frame-bytes", str(16 << 20)]
    if broker_supports(a.broker, "--queued-max-request-bytes"):  # else the test shows why
        args += ["--queued-max-request-bytes", str(budget)]
    b = Broker(a.broker, wd.sub("data"), args, wd.path, nofile=nofile)
    if not checks.check("broker starts with an open-file limit of %d" % nofile, b.start()):
        return checks.finish()
    time.sleep(0.3)
    base_rss = b.status("VmRSS") or 0
    created = {}
    errors = []

    def attack():
        # the client's topic first, as in a deployment where topics exist before the attack
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                with kproto.Conn(b.host, b.port) as c:
                    if c.partitions("beside"):
                        break
            except (OSError, kproto.ProtocolError):
                time.sleep(0.1)
        # ten connections each sending 8 MB of a 12 MB frame, held open during what follows
        socks = []
        try:
            head = struct.pack(">i", frame) + struct.pack(">hhi", 0, 7, 1) + kproto.s16("x")
            chunk = head + bytes(8 << 20)
            for _ in range(10):
                s = socket.create_connection((b.host, b.port), timeout=10)
                s.setblocking(False)
                socks.append([s, 0])
            deadline = time.time() + 8
            while time.time() < deadline and any(sent < len(chunk) for _, sent in socks):
                for entry in socks:
                    s, sent = entry
                    if sent < len(chunk):
                        try:
                            entry[1] += s.send(chunk[sent:sent + (1 << 20)])
                        except (BlockingIOError, InterruptedError):
                            pass
                time.sleep(0.01)
            # unauthenticated Metadata requests naming 2,000 new topics each, six times
            for round_ in range(6):
                names = ["flood-%d-%d" % (round_, i) for i in range(2000)]
                for code, n in metadata_auto_create(b, names).items():
                    created[code] = created.get(code, 0) + n
            time.sleep(2)  # while the client works
        except (OSError, kproto.ProtocolError) as e:
            errors.append("attack: %s" % e)
        finally:
            for s, _ in socks:
                s.close()

    (crc, cout), peak = client_beside(client, b, attack, "beside", 3000, 150)
    checks.check("no attacker error", not errors, "; ".join(errors))
    checks.check("%s round trip of 3,000 messages beside the attacker" % client, crc == 0,
                 last_line(cout))
    made = created.get(5, 0)  # LEADER_NOT_AVAILABLE: being created
    # at most 100 a request (--max-partitions-per-request), and in all no more than the
    # open-file limit leaves after the broker's reserve for connections (an eighth, at least 64)
    room = (nofile - max(64, nofile // 8)) // 2
    checks.check("the Metadata flood created topics within the open-file limit",
                 0 < made <= room, "%d created of 12,000 named, room for %d (%s)"
                 % (made, room, created))
    growth_mb = (peak - base_rss) / 1024.0
    slack_mb = 64 if is_asan(a.broker) else 24  # AddressSanitizer's quarantine counts in RSS
    checks.check("buffered partial frames stay within --queued-max-request-bytes",
                 growth_mb < (budget >> 20) + slack_mb, "VmRSS grew %.1f MB (budget %d MB, "
                 "slack %d MB; 10 x 8 MB without the budget)" % (growth_mb, budget >> 20, slack_mb))
    alive = b.alive()
    checks.check("broker still running", alive)
    if alive:
        ok, detail = api_versions_ok(b)
        checks.check("broker answers ApiVersions afterwards", ok, detail)
        rc = b.stop()
        checks.check("broker exits 0 on SIGTERM", rc == 0, "status %s" % rc)
    names, staging = topic_dirs(b.data_dir)
    checks.check("no half-created topic left on disk", staging == 0, "%d staging dirs" % staging)
    checks.check("broker starts again on its data directory, same open-file limit", b.start())
    if b.alive():
        try:
            with kproto.Conn(b.host, b.port) as c:
                missing = [n for n in sorted(names)[:50] if not c.partitions(n)]
            checks.check("topics on disk are served after the restart", not missing,
                         "%d of %d topic directories checked, missing %s"
                         % (min(50, len(names)), len(names), missing[:5]))
        except (OSError, kproto.ProtocolError) as e:
            checks.check("topics on disk are served after the restart", False, str(e))
        b.stop()
    if checks.failed:
        b.dump_log(60)
    wd.done(not checks.failed)
    return checks.finish()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("test", choices=["roundtrip", "restart", "crash", "hostile", "old-formats",
                                     "limits"])
    ap.add_argument("--broker", required=True, help="path of kwire-broker")
    ap.add_argument("--segcheck", default=None, help="path of segcheck")
    ap.add_argument("--client", choices=CLIENTS)
    ap.add_argument("--count", type=int, default=10000)
    a = ap.parse_args()
    if not os.access(a.broker, os.X_OK):
        log("broker %s is not an executable" % a.broker)
        return 1
    if a.test == "roundtrip" and not a.client:
        ap.error("roundtrip needs --client")
    return {"roundtrip": t_roundtrip, "restart": t_restart, "crash": t_crash,
            "hostile": t_hostile, "old-formats": t_old_formats, "limits": t_limits}[a.test](a)


if __name__ == "__main__":
    sys.exit(main())
