#!/usr/bin/env python3
"""kwire-broker beside Apache Kafka 4.4 and librdkafka's mock cluster, on 127.0.0.1.

For each broker, the same load (COUNT messages of SIZE bytes, one partition):
  kcat-produce   kcat -P of COUNT lines into topic kc (acks=all)
  kcat-consume   kcat -C of topic kc from the beginning, COUNT messages, output counted
  pp-produce     org.apache.kafka.tools.ProducerPerformance into topic pp (acks=all)
  cp-consume     org.apache.kafka.tools.ConsumerPerformance of topic pp (a classic group)
Each phase is preceded by a short warm-up of the same kind on other topics (the
JVM's JIT, the page cache). Throughput is COUNT over the phase's wall time (for
the Java tools, what they print); broker CPU is utime+stime of the broker process
(/proc/PID/stat, all its threads) over the phase, divided by COUNT.

  bench/brokers/run.py --broker BUILD/examples/broker/kwire-broker --mock BUILD/tests/interop/mock_cluster
      [--count 1000000] [--size 100] [--brokers kwire,kafka,mock] [--kafka-jit full|c1]
      [--fsync never] [--markdown OUT.md]
  bench/brokers/run.py --check ...   tiny counts, kwire-broker and the mock, kcat only (a smoke test)

Kafka runs from tests/kafka/kafka.sh (jars from .ci/install-kafka). kafka.sh
starts the JVM with -XX:TieredStopAtLevel=1 (C1 only: quick starts for tests);
with --kafka-jit full (the default) a `java` wrapper first on PATH drops that
flag, so Kafka runs with its JVM's full JIT as it would in production.
Everything listens on 127.0.0.1; every process is stopped by PID; every wait is
bounded. Exit 77 when kcat or the mock is missing (--check), 1 on any failure.
"""
import argparse
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
KAFKA_SH = os.path.join(ROOT, "tests", "kafka", "kafka.sh")
CLK_TCK = os.sysconf("SC_CLK_TCK")
SKIP = 77


class Fail(Exception):
    pass


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def cpu_seconds(pid):
    """utime + stime of a process (all its threads), in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        s = f.read()
    fields = s[s.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # fields 14 and 15 of stat(5)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Procs:
    """Every process started, stopped by PID at the end."""

    def __init__(self):
        self.procs = []

    def start(self, argv, **kw):
        p = subprocess.Popen(argv, **kw)
        self.procs.append(p)
        return p

    def stop(self, p, grace=10):
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(grace)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)
        if p in self.procs:
            self.procs.remove(p)

    def stop_all(self):
        for p in list(self.procs):
            self.stop(p)


PROCS = Procs()


def run(argv, timeout, **kw):
    """Runs argv to its end within timeout seconds (killed by PID past it)."""
    p = PROCS.start(argv, **kw)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        PROCS.stop(p, grace=2)
        raise Fail("%s: no end within %ds" % (os.path.basename(argv[0]), timeout))
    PROCS.procs.remove(p)
    return p.returncode, out, err


def wait_listening(p, out_path, name, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(out_path) as f:
            m = re.search(r"listening on (\S+)", f.read())
        if m:
            return m.group(1)
        if p.poll() is not None:
            break
        time.sleep(0.05)
    err = out_path[:-4] + ".err"
    raise Fail("%s did not start: %s" % (name, open(err).read()[-1000:] if os.path.exists(err) else ""))


# ---- brokers --------------------------------------------------------------------------------

class Broker:
    name = ""
    pid = 0
    addr = ""

    def create(self, topic):
        """Makes topic exist with one partition (the kwire-broker creates on first Metadata)."""

    def stop(self):
        pass


class Kwire(Broker):
    name = "kwire-broker"

    def __init__(self, exe, work, fsync):
        out = os.path.join(work, "kwire.out")
        with open(out, "w") as o, open(os.path.join(work, "kwire.err"), "w") as e:
            self.p = PROCS.start([exe, "--listen", "127.0.0.1:0", "--data-dir", os.path.join(work, "kwire-data"),
                                  "--partitions", "1", "--fsync", fsync,
                                  "--group-initial-rebalance-delay-ms", "0"],
                                 stdout=o, stderr=e, stdin=subprocess.DEVNULL)
        self.addr = wait_listening(self.p, out, self.name)
        self.pid = self.p.pid

    def create(self, topic):
        # an auto-creating Metadata request, so no client waits for the topic
        sys.path.insert(0, os.path.join(ROOT, "tests", "interop"))
        import kproto
        host, port = kproto.split_hostport(self.addr)
        for _ in range(50):  # LEADER_NOT_AVAILABLE on the request that creates it, as Kafka
            with kproto.Conn(host, port) as c:
                try:
                    if len(c.partitions(topic, auto_create=True)) == 1:
                        return
                except kproto.ProtocolError:
                    pass
            time.sleep(0.05)
        raise Fail("kwire-broker did not create %s" % topic)

    def stop(self):
        PROCS.stop(self.p)


class Mock(Broker):
    name = "mock"

    def __init__(self, exe, work, topics):
        out = os.path.join(work, "mock.out")
        argv = [exe, "-p", "1", "-T", "1800"]
        for t in topics:
            argv += ["-t", t]
        with open(out, "w") as o, open(os.path.join(work, "mock.err"), "w") as e:
            self.p = PROCS.start(argv, stdout=o, stderr=e, stdin=subprocess.DEVNULL)
        self.addr = wait_listening(self.p, out, self.name)
        self.pid = self.p.pid

    def stop(self):
        PROCS.stop(self.p)


class Kafka(Broker):
    name = "Kafka 4.4"

    def __init__(self, work, lib, jit):
        self.dir = os.path.join(work, "kafka")
        self.lib = lib
        env = dict(os.environ, KAFKA_LIB=lib, KAFKA_START_TIMEOUT="120")
        if jit == "full":
            wrapdir = os.path.join(work, "jvm")
            os.makedirs(wrapdir, exist_ok=True)
            real = shutil.which("java")
            with open(os.path.join(wrapdir, "java"), "w") as f:
                f.write('#!/usr/bin/env bash\n# kafka.sh asks for C1 only (quick test starts); a benchmark wants the full JIT\n'
                        'args=()\nfor a in "$@"; do [ "$a" = -XX:TieredStopAtLevel=1 ] || args+=("$a"); done\n'
                        'exec %s "${args[@]}"\n' % real)
            os.chmod(os.path.join(wrapdir, "java"), 0o755)
            env["PATH"] = wrapdir + os.pathsep + env["PATH"]
        # kafka.sh start returns once the node answers; the JVM stays, its pid in DIR/kafka.pid
        rc, out, err = run(["bash", KAFKA_SH, "start", self.dir], 180, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            self.pid = int(open(os.path.join(self.dir, "kafka.pid")).read())
        except (OSError, ValueError):
            self.pid = 0
        if rc != 0:
            self.stop()
            raise Fail("kafka.sh start: %s" % err.strip()[-2000:])
        self.addr = out.strip().splitlines()[-1]

    def create(self, topic):
        rc, out, err = run(["java", "-cp", self.lib + "/*", "org.apache.kafka.tools.TopicCommand",
                            "--bootstrap-server", self.addr, "--create", "--topic", topic,
                            "--partitions", "1", "--replication-factor", "1"], 120,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if rc != 0:
            raise Fail("creating %s on Kafka: %s" % (topic, err.strip()[-1000:]))

    def stop(self):
        run(["bash", KAFKA_SH, "stop", self.dir], 60, stdout=subprocess.DEVNULL)


# ---- loads ----------------------------------------------------------------------------------

def make_input(path, count, size):
    with open(path, "wb") as f:
        chunk = []
        for i in range(count):
            head = b"%d:" % i
            chunk.append(head + b"x" * max(0, size - len(head)) + b"\n")
            if len(chunk) == 10000:
                f.write(b"".join(chunk))
                chunk = []
        f.write(b"".join(chunk))


def end_offset(addr, topic):
    rc, out, _ = run(["kcat", "-Q", "-b", addr, "-t", topic + ":0:-1"], 60,
                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    m = re.search(r"offset (-?\d+)", out)
    return int(m.group(1)) if rc == 0 and m else None


def kcat_produce(b, topic, inp, count, timeout):
    with open(inp, "rb") as f:
        t0 = time.monotonic()
        rc, _, err = run(["kcat", "-P", "-b", b.addr, "-t", topic, "-p", "0", "-X", "acks=all",
                          "-X", "linger.ms=5", "-X", "queue.buffering.max.messages=%d" % max(count, 100000),
                          "-X", "queue.buffering.max.kbytes=1048576"], timeout,
                         stdin=f, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        t1 = time.monotonic()
    if rc != 0:
        raise Fail("%s: kcat -P %s: %s" % (b.name, topic, err.strip()[-1000:]))
    end = end_offset(b.addr, topic)
    if end != count:
        raise Fail("%s: %s ends at offset %s after kcat -P, want %d" % (b.name, topic, end, count))
    return t1 - t0


def kcat_consume(b, topic, count, size, timeout):
    """kcat -C of count messages from offset 0; its output (a line per message) is counted.
    Seconds from kcat's start to its last message. Offset 0 rather than `beginning`: the
    ListOffsets that `beginning` needs sometimes waits 500 ms on a librdkafka timer at start."""
    t0 = time.monotonic()
    p = PROCS.start(["kcat", "-C", "-b", b.addr, "-t", topic, "-p", "0", "-o", "0",
                     "-c", str(count), "-q"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    lines = nbytes = 0
    deadline = t0 + timeout
    fd = p.stdout.fileno()
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            PROCS.stop(p, grace=2)
            raise Fail("%s: kcat -C %s: %d of %d messages, no end within %ds" % (b.name, topic, lines, count, timeout))
        buf = os.read(fd, 1 << 20)
        if not buf:
            break
        lines += buf.count(b"\n")
        nbytes += len(buf)
        if lines >= count:
            t1 = time.monotonic()  # the last message, not kcat's exit (its teardown)
    err = p.stderr.read().decode(errors="replace")
    rc = p.wait(10)
    PROCS.procs.remove(p)
    if rc != 0 or lines != count or nbytes != count * (size + 1):
        raise Fail("%s: kcat -C %s: exit %d, %d lines (%d bytes), want %d: %s"
                   % (b.name, topic, rc, lines, nbytes, count, err.strip()[-1000:]))
    return t1 - t0


def java_tool(lib, cls, args, timeout):
    rc, out, err = run(["java", "-Xmx1g", "-cp", lib + "/*", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                        "org.apache.kafka.tools." + cls] + args, timeout,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if rc != 0:
        raise Fail("%s: exit %d: %s" % (cls, rc, (err + out).strip()[-1500:]))
    return out


def producer_perf(lib, b, topic, count, size, timeout):
    out = java_tool(lib, "ProducerPerformance",
                    ["--topic", topic, "--num-records", str(count), "--record-size", str(size),
                     "--throughput", "-1", "--producer-props", "bootstrap.servers=" + b.addr, "acks=all",
                     "linger.ms=5"], timeout)
    # the last line: "N records sent, X records/sec (Y MB/sec), ..."
    m = None
    for m in re.finditer(r"(\d+) records sent, ([\d.]+) records/sec", out):
        pass
    if not m or int(m.group(1)) != count:
        raise Fail("%s: ProducerPerformance: %s" % (b.name, out.strip()[-1000:]))
    end = end_offset(b.addr, topic)
    if end != count:
        raise Fail("%s: %s ends at offset %s after ProducerPerformance, want %d" % (b.name, topic, end, count))
    return float(m.group(2))


def consumer_perf(lib, b, topic, count, timeout, group):
    out = java_tool(lib, "ConsumerPerformance",
                    ["--bootstrap-server", b.addr, "--topic", topic, "--messages", str(count),
                     "--timeout", str(timeout * 1000), "--group", group], timeout + 30)
    # CSV: start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec,
    #      rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec
    rows = [l.split(",") for l in out.splitlines() if l.count(",") >= 9 and l[:1].isdigit()]
    if not rows:
        raise Fail("%s: ConsumerPerformance: %s" % (b.name, out.strip()[-1000:]))
    r = [x.strip() for x in rows[-1]]
    n = int(r[4])
    if n < count:
        raise Fail("%s: ConsumerPerformance consumed %d of %d" % (b.name, n, count))
    return float(r[9]), float(r[5])  # fetch.nMsg.sec (after the group's join), nMsg.sec


# ---- one broker -----------------------------------------------------------------------------

def measure(b, a, inp, winp, rinp, java):
    """All phases against broker b: {phase: (msgs_per_s, cpu_seconds)}."""
    res = {}
    n, w, r = a.count, a.warmup, a.retained
    passes = n // r
    tmo = a.phase_timeout
    mock = isinstance(b, Mock)

    def phase(key, fn):
        c0 = cpu_seconds(b.pid)
        rate = fn()
        c1 = cpu_seconds(b.pid)
        res[key] = (rate, c1 - c0)
        log("  %s %s: %.0f msgs/s, broker CPU %.2f s" % (b.name, key, rate, c1 - c0))

    def kcat_passes():
        return passes * r / sum(kcat_consume(b, "kr", r, a.size, tmo) for _ in range(passes))

    for t in TOPICS:
        b.create(t)
    kcat_produce(b, "kcw", winp, w, tmo)
    phase("kcat-produce", lambda: n / kcat_produce(b, "kc", inp, n, tmo))
    kcat_produce(b, "kr", rinp, r, tmo)
    kcat_consume(b, "kr", r, a.size, tmo)  # warm-up (kcw may be past what the mock keeps)
    if not mock:  # the mock keeps only the last ~5 MB of a partition
        phase("kcat-consume", lambda: n / kcat_consume(b, "kc", n, a.size, tmo))
    phase("kcat-consume-passes", kcat_passes)
    if java:
        producer_perf(a.kafka_lib, b, "ppw", w, a.size, tmo)
        phase("pp-produce", lambda: producer_perf(a.kafka_lib, b, "pp", n, a.size, tmo))
        if not mock:
            consumer_perf(a.kafka_lib, b, "ppw", w, tmo, "warm")
            fetch_rate = {}

            def cp():
                fr, total = consumer_perf(a.kafka_lib, b, "pp", n, tmo, "perf")
                fetch_rate["total"] = total
                return fr
            phase("cp-consume", cp)
            res["cp-consume-total"] = (fetch_rate["total"], 0.0)
    return res


TOPICS = ("kc", "kcw", "kr", "pp", "ppw")


# ---- the table --------------------------------------------------------------------------------

def fmt_rate(r):
    return "%.0f" % r


def table(results, a):
    names = [n for n in ("kwire-broker", "Kafka 4.4", "mock") if n in results]
    kw, kf, mk = results.get("kwire-broker"), results.get("Kafka 4.4"), results.get("mock")
    phases = [("kcat-produce", "kcat -P"), ("kcat-consume", "kcat -C"),
              ("kcat-consume-passes", "kcat -C, %d x %d" % (a.count // a.retained, a.retained)),
              ("pp-produce", "ProducerPerformance"), ("cp-consume", "ConsumerPerformance")]
    head = ["", *names]
    if kw and kf:
        head.append("kwire / Kafka")
    if kw and mk:
        head.append("kwire / mock")

    def cell(n, key, f):
        return f(results[n][key]) if key in results[n] else "n/a"

    def ratio(x, y, key, f, fmt):
        if key in x and key in y and f(y[key]) > 0:
            return fmt % (f(x[key]) / f(y[key]))
        return "-"
    rows = []
    rate = lambda v: v[0]
    us = lambda v: v[1] * 1e6 / a.count
    for key, label in phases:
        if not any(key in results[n] for n in names):
            continue
        row = [label + " msgs/s (MB/s)"] + [cell(n, key, lambda v: "%.0f (%.1f)" % (v[0], v[0] * a.size / 1e6))
                                            for n in names]
        if kw and kf:
            row.append(ratio(kw, kf, key, rate, "%.2fx"))
        if kw and mk:
            row.append(ratio(kw, mk, key, rate, "%.2fx"))
        rows.append(row)
    for key, label in phases:
        if not any(key in results[n] for n in names):
            continue
        row = ["broker CPU us/msg, " + label] + [cell(n, key, lambda v: "%.3f" % us(v)) for n in names]
        if kw and kf:
            row.append(ratio(kw, kf, key, us, "%.2f"))
        if kw and mk:
            row.append(ratio(kw, mk, key, us, "%.2f"))
        rows.append(row)
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--broker", required=True, help="kwire-broker executable")
    ap.add_argument("--mock", help="mock_cluster executable (tests/interop/mock_cluster.c)")
    ap.add_argument("--kafka-lib", default=os.path.join(ROOT, "tests", "kafka", "lib"))
    ap.add_argument("--count", type=int, default=1000000)
    ap.add_argument("--size", type=int, default=100)
    ap.add_argument("--warmup", type=int, help="messages of each warm-up (default count/5)")
    ap.add_argument("--retained", type=int, default=40000,
                    help="messages of the topic read count/retained times (the mock keeps ~5 MB a partition)")
    ap.add_argument("--brokers", default="kwire,kafka,mock")
    ap.add_argument("--kafka-jit", choices=("full", "c1"), default="full")
    ap.add_argument("--fsync", default="never", help="kwire-broker --fsync (Kafka leaves flushing to the OS)")
    ap.add_argument("--no-java", action="store_true", help="kcat phases only")
    ap.add_argument("--phase-timeout", type=int, default=120)
    ap.add_argument("--markdown", help="write the table there too")
    ap.add_argument("--check", action="store_true", help="smoke test: 20000 messages, kwire + mock, kcat only")
    a = ap.parse_args()
    if a.check:
        a.count, a.brokers, a.no_java, a.phase_timeout = min(a.count, 20000), "kwire,mock", True, 20
        a.retained = min(a.retained, 5000)
    if a.warmup is None:
        a.warmup = max(1000, a.count // 5)
    wanted = a.brokers.split(",")
    if not shutil.which("kcat"):
        log("run.py: kcat not found (.ci/install-interop)")
        return SKIP
    if "mock" in wanted and not (a.mock and os.access(a.mock, os.X_OK)):
        log("run.py: no mock_cluster executable (--mock; built with librdkafka-dev)")
        if a.check:
            return SKIP
        wanted.remove("mock")
    java = not a.no_java and shutil.which("java") and os.path.isdir(a.kafka_lib) and \
        any(f.startswith("kafka-tools-") for f in os.listdir(a.kafka_lib))
    if "kafka" in wanted and not java:
        log("run.py: no java or no Kafka jars in %s (.ci/install-kafka): Kafka left out" % a.kafka_lib)
        wanted.remove("kafka")

    work = tempfile.mkdtemp(prefix="kwire-brokers.")
    t_start = time.monotonic()
    results = {}
    status = 0
    load0 = open("/proc/loadavg").read().split()[:3]
    try:
        inp, winp = os.path.join(work, "input"), os.path.join(work, "warm")
        make_input(inp, a.count, a.size)
        make_input(winp, a.warmup, a.size)
        a.retained = max(1, min(a.retained, a.count))
        rinp = os.path.join(work, "retained")
        make_input(rinp, a.retained, a.size)
        log("run.py: %d x %d B per phase (warm-up %d), brokers %s" % (a.count, a.size, a.warmup, ",".join(wanted)))
        for w in wanted:
            bdir = os.path.join(work, w)
            os.makedirs(bdir)
            if w == "kwire":
                b = Kwire(a.broker, bdir, a.fsync)
            elif w == "mock":
                b = Mock(a.mock, bdir, TOPICS)
            elif w == "kafka":
                b = Kafka(bdir, a.kafka_lib, a.kafka_jit)
            else:
                raise Fail("unknown broker %s" % w)
            try:
                log("run.py: %s at %s (pid %d)" % (b.name, b.addr, b.pid))
                results[b.name] = measure(b, a, inp, winp, rinp, java)
            finally:
                b.stop()
                shutil.rmtree(bdir, ignore_errors=True)
    except Fail as e:
        log("run.py: FAIL: %s" % e)
        status = 1
    finally:
        PROCS.stop_all()
        shutil.rmtree(work, ignore_errors=True)
    load1 = open("/proc/loadavg").read().split()[:3]
    if status:
        return status
    out = table(results, a)
    note = ("%d x %d B messages per phase, one partition, acks=all; kwire-broker --fsync %s; Kafka JIT %s; "
            "load average %s before, %s after; %.0f s"
            % (a.count, a.size, a.fsync, a.kafka_jit, " ".join(load0), " ".join(load1), time.monotonic() - t_start))
    print(out)
    print()
    print(note)
    if "cp-consume-total" in results.get("kwire-broker", {}):
        print("ConsumerPerformance msgs/s is its fetch.nMsg.sec (after the group's join); nMsg.sec (with the join): "
              + ", ".join("%s %.0f" % (n, r["cp-consume-total"][0]) for n, r in results.items()))
    if a.markdown:
        with open(a.markdown, "w") as f:
            f.write(out + "\n\n" + note + "\n")
    if a.check:
        print("run.py --check: ok")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        PROCS.stop_all()
        sys.exit(130)
