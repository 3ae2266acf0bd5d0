#!/usr/bin/env python3
"""Power cuts under kwire-broker: what each --fsync mode keeps of what it acknowledged.

Each cut: a fresh ext4 image is loop-mounted and a broker started on it; one
producer sends numbered messages (Produce v3, acks=-1, a few records per
batch) and records every acknowledgement. At a random moment the broker is
stopped (SIGSTOP: it sends nothing more) and the image file is copied as it
is, without unmounting or syncing: the copy holds what the file system had
handed to the block device, which is what a power cut leaves. Then the broker
is killed (SIGKILL), the original unmounted, the copy checked with e2fsck,
mounted, and a fresh broker on it is read from offset 0 with Fetch v4: every
batch CRC is checked, every value compared with the one its number implies.

The mode given by --checked (default always) must keep every acknowledged
message, intact and in order; a record that was never acknowledged may or may
not be there. For the other modes the losses are reported, not asserted: how
many acknowledged messages, and how long before the cut the oldest of them had
been acknowledged (the window). Produce latency is reported too: in interval
mode its maximum is about what one fsync took.

Needs root, mkfs.ext4, e2fsck and working loop mounts; otherwise it exits 77
(skipped). Everything listens on 127.0.0.1; images, mounts and loop devices
are removed on every exit path.

    powercut.py --broker build/examples/broker/kwire-broker
    powercut.py --broker ... --modes never:2 --produce-seconds 35-40 --rate 2000
    powercut.py --broker ... --modes never:3 --checked never   # must fail
"""
import argparse
import hashlib
import os
import random
import re
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "interop"))
import kproto  # noqa: E402

SKIP = 77
TOPIC = "powercut"
IMAGE_MIB = 256
LISTEN_RE = re.compile(rb"kwire-broker: listening on (\S+):(\d+)")

# everything this run started or made, undone by cleanup() on every exit path
_procs = []
_mounts = []
_images = []
_workdirs = []


def log(msg):
    print("powercut: " + msg, flush=True)


def run(argv, timeout=60, check=True):
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       stdin=subprocess.DEVNULL, timeout=timeout)
    if check and p.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(argv), p.returncode,
                                                 p.stdout.decode("utf-8", "replace").strip()))
    return p.returncode, p.stdout.decode("utf-8", "replace")


def loop_devices_of(image):
    try:
        _, out = run(["losetup", "-j", image], timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.split(":", 1)[0] for line in out.splitlines() if line.startswith("/dev/")]


def umount(path):
    for _ in range(20):
        rc, _ = run(["umount", path], timeout=30, check=False)
        if rc == 0 or not os.path.ismount(path):
            break
        time.sleep(0.1)
    else:
        run(["umount", "-l", path], timeout=30, check=False)  # last resort
    if path in _mounts:
        _mounts.remove(path)


def cleanup():
    for p in list(_procs):
        if p.poll() is None:
            try:
                os.kill(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        _procs.remove(p)
    for m in list(reversed(_mounts)):
        umount(m)
    for img in list(_images):
        for dev in loop_devices_of(img):
            run(["losetup", "-d", dev], timeout=10, check=False)
        _images.remove(img)
    for d in list(_workdirs):
        shutil.rmtree(d, ignore_errors=True)
        _workdirs.remove(d)


def _on_term(sig, _frame):
    raise SystemExit("signal %d" % sig)  # unwinds through the finally blocks


# ---- messages ------------------------------------------------------------------------------

def value_of(n):
    """The value message n carries: its number and a digest of it, so a record
    that comes back under the wrong number or with other bytes is caught."""
    return b"%08d:" % n + hashlib.sha256(b"kwire-powercut %d" % n).hexdigest().encode() * (1 + n % 3)


def read_varint(b, p):
    shift = v = 0
    while True:
        if p >= len(b) or shift > 63:
            raise kproto.ProtocolError("bad varint")
        c = b[p]
        p += 1
        v |= (c & 0x7F) << shift
        if c < 0x80:
            return (v >> 1) ^ -(v & 1), p
        shift += 7


def parse_batches(data, problems):
    """(offset, key, value) of every record in data (v2 batches); a partial
    batch at the end (max_bytes) is left for the next fetch."""
    out = []
    p = 0
    while len(data) - p >= 61:
        base, blen = struct.unpack_from(">qi", data, p)
        if blen < 49 or p + 12 + blen > len(data):
            break
        batch = data[p:p + 12 + blen]
        p += 12 + blen
        magic = batch[16]
        (crc,) = struct.unpack_from(">I", batch, 17)
        if magic != 2:
            problems.append("batch at offset %d: magic %d" % (base, magic))
            continue
        if kproto.crc32c(batch[21:]) != crc:
            problems.append("batch at offset %d: CRC-32C mismatch" % base)
            continue
        (attrs,) = struct.unpack_from(">h", batch, 21)
        if attrs & 0x07:
            problems.append("batch at offset %d: compressed (attributes %d)" % (base, attrs))
            continue
        (count,) = struct.unpack_from(">i", batch, 57)
        q = 61
        for _ in range(count):
            rlen, q = read_varint(batch, q)
            end = q + rlen
            q += 1  # attributes
            _ts, q = read_varint(batch, q)
            odelta, q = read_varint(batch, q)
            klen, q = read_varint(batch, q)
            key = None if klen < 0 else bytes(batch[q:q + klen])
            q += max(klen, 0)
            vlen, q = read_varint(batch, q)
            val = None if vlen < 0 else bytes(batch[q:q + vlen])
            q = end
            out.append((base + odelta, key, val))
    return out, p


def fetch_all(conn, problems, deadline):
    """Every record of partition 0 from offset 0 to the high watermark; None
    when the broker does not know the topic."""
    records = []
    offset = 0
    while time.monotonic() < deadline:
        body = struct.pack(">iiiib", -1, 0, 0, 4 << 20, 0)
        body += kproto.arr([TOPIC], lambda t: kproto.s16(t) + kproto.arr(
            [0], lambda part: struct.pack(">iqi", part, offset, 1 << 20)))
        r = conn.call(kproto.API_FETCH, 4, body)
        r.i32()  # throttle
        parts = []
        r.array(lambda: (r.string(), r.array(lambda: parts.append(
            (r.i32(), r.i16(), r.i64(), r.i64(),
             r.array(lambda: (r.i64(), r.i64())), r.take(max(r.i32(), 0)))))))
        if not parts:
            raise kproto.ProtocolError("empty Fetch response")
        _p, err, hw, _lso, _aborted, data = parts[0]
        if err == 3:  # UNKNOWN_TOPIC_OR_PARTITION: the topic did not survive
            return None
        if err != 0:
            raise kproto.ProtocolError("Fetch error %d at offset %d" % (err, offset))
        if offset >= hw:
            return records
        got, _used = parse_batches(data, problems)
        got = [rec for rec in got if rec[0] >= offset]
        if not got:
            raise kproto.ProtocolError("Fetch at offset %d (high watermark %d) returned no record"
                                       % (offset, hw))
        records += got
        offset = got[-1][0] + 1
    raise kproto.ProtocolError("reading the log back took too long")


# ---- the broker ----------------------------------------------------------------------------

class Broker:
    def __init__(self, exe, data_dir, fsync, log_path, extra=()):
        self.argv = [exe, "--listen", "127.0.0.1:0", "--data-dir", data_dir, "--fsync", fsync,
                     "--idle-timeout-ms", "60000"] + list(extra)
        self.log_path = log_path
        self.proc = None
        self.port = None

    def start(self, timeout=20.0):
        with open(self.log_path, "ab") as err:
            self.proc = subprocess.Popen(self.argv, stdout=subprocess.PIPE, stderr=err,
                                         stdin=subprocess.DEVNULL)
        _procs.append(self.proc)
        fd = self.proc.stdout.fileno()
        buf = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            if not select.select([fd], [], [], 0.2)[0]:
                continue
            chunk = os.read(fd, 4096)  # the broker prints one line, then only logs to stderr
            if not chunk:
                break
            buf += chunk
            m = LISTEN_RE.search(buf)
            if m:
                self.port = int(m.group(2))
                return
        raise RuntimeError("broker did not start (%s): %s" % (" ".join(self.argv), self.tail()))

    def tail(self, n=15):
        try:
            with open(self.log_path, "rb") as f:
                return b"".join(f.readlines()[-n:]).decode("utf-8", "replace")
        except OSError:
            return ""

    def signal(self, sig):
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, sig)

    def kill(self):
        self.signal(signal.SIGKILL)
        self.reap()

    def stop(self):
        self.signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.signal(signal.SIGKILL)
        self.reap()

    def reap(self):
        if self.proc:
            self.proc.wait(timeout=20)
            self.proc.stdout.close()
            if self.proc in _procs:
                _procs.remove(self.proc)


# ---- the producer --------------------------------------------------------------------------

class Producer(threading.Thread):
    """Sends messages 0, 1, 2 ... in batches of 1-8 records, one request at a
    time; acked gets (first number, count, base offset, ack time) per
    acknowledged batch."""

    def __init__(self, port, rng, max_messages, rate):
        super().__init__(daemon=True)
        self.rate = rate
        self.conn = kproto.Conn("127.0.0.1", port, timeout=30.0)
        self.rng = rng
        self.max_messages = max_messages
        self.stopping = threading.Event()
        self.acked = []
        self.latencies = []
        self.refused = 0
        self.sent = 0
        self.ended = ""

    def run(self):
        n = 0
        t_first = time.monotonic()
        try:
            while not self.stopping.is_set() and n < self.max_messages:
                if self.rate:
                    ahead = n / self.rate - (time.monotonic() - t_first)
                    if ahead > 0:
                        self.stopping.wait(ahead)
                        continue
                k = self.rng.randint(1, 8)
                batch = kproto.record_batch([(b"%d" % i, value_of(i)) for i in range(n, n + k)])
                self.sent = n + k
                t0 = time.monotonic()
                err, base = self.conn.produce(TOPIC, 0, batch, acks=-1)
                t1 = time.monotonic()
                if err == 0:
                    self.acked.append((n, k, base, t1))
                    self.latencies.append(t1 - t0)
                else:
                    self.refused += 1
                n += k
            self.ended = "stopped" if n < self.max_messages else "all %d sent" % n
        except (OSError, kproto.ProtocolError) as e:
            self.ended = "connection ended: %s" % e
        finally:
            self.conn.close()


# ---- one cut -------------------------------------------------------------------------------

def make_fs(workdir, name):
    img = os.path.join(workdir, name + ".img")
    with open(img, "wb") as f:
        f.truncate(IMAGE_MIB << 20)
    _images.append(img)
    run(["mkfs.ext4", "-q", "-F", img])
    return img


def mount(img, mnt):
    os.makedirs(mnt, exist_ok=True)
    run(["mount", "-o", "loop", img, mnt], timeout=30)
    _mounts.append(mnt)


def copy_image(src, dst):
    """The cut: the image file as it is now, read through the page cache the
    loop device writes into (what it was handed; nothing is flushed here)."""
    _images.append(dst)
    with open(src, "rb") as fi, open(dst, "wb") as fo:
        size = os.fstat(fi.fileno()).st_size
        zero = bytes(1 << 20)
        pos = 0
        while pos < size:
            chunk = fi.read(1 << 20)
            if not chunk:
                break
            if chunk == zero[:len(chunk)]:
                fo.seek(len(chunk), os.SEEK_CUR)  # keep the copy sparse
            else:
                fo.write(chunk)
            pos += len(chunk)
        fo.truncate(size)


def percentile(xs, q):
    if not xs:
        return 0.0
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def one_cut(args, mode, index, rng, workdir):
    tag = "%s-%d" % (mode, index)
    img = make_fs(workdir, tag)
    mnt = os.path.join(workdir, tag + ".mnt")
    mount(img, mnt)
    broker = Broker(args.broker, os.path.join(mnt, "data"), mode,
                    os.path.join(workdir, tag + "-broker.log"))
    broker.start()
    with kproto.Conn("127.0.0.1", broker.port) as c:
        deadline = time.monotonic() + 10
        while True:
            try:
                if c.partitions(TOPIC, auto_create=True) == [0]:
                    break
            except kproto.ProtocolError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("topic %s was not created" % TOPIC)
            time.sleep(0.05)
    producer = Producer(broker.port, rng, args.max_messages, args.rate)
    lo, hi = args.produce_seconds
    after = rng.uniform(lo, hi)
    t_start = time.monotonic()
    producer.start()
    producer.join(timeout=after)  # returns early only if the producer ended by itself
    # --- the power cut ---
    broker.signal(signal.SIGSTOP)
    t_cut = time.monotonic()
    copy_image(img, os.path.join(workdir, tag + "-cut.img"))
    copy_s = time.monotonic() - t_cut
    broker.kill()
    producer.stopping.set()
    producer.join(timeout=35)
    if producer.is_alive():
        raise RuntimeError("producer still running after the broker was killed")
    umount(mnt)
    for dev in loop_devices_of(img):
        run(["losetup", "-d", dev], timeout=10, check=False)
    os.unlink(img)
    _images.remove(img)
    cut = os.path.join(workdir, tag + "-cut.img")
    fsck_rc, fsck_out = run(["e2fsck", "-f", "-y", cut], timeout=120, check=False)
    if fsck_rc >= 4:
        raise RuntimeError("e2fsck could not repair the cut image (exit %d): %s"
                           % (fsck_rc, fsck_out.strip()[-500:]))
    mnt2 = os.path.join(workdir, tag + "-cut.mnt")
    mount(cut, mnt2)
    reader = Broker(args.broker, os.path.join(mnt2, "data"), "never",
                    os.path.join(workdir, tag + "-reader.log"), ["--no-auto-create"])
    reader.start()
    problems = []
    with kproto.Conn("127.0.0.1", reader.port, timeout=30.0) as c:
        records = fetch_all(c, problems, time.monotonic() + 60)
    reader.stop()
    umount(mnt2)
    for dev in loop_devices_of(cut):
        run(["losetup", "-d", dev], timeout=10, check=False)
    os.unlink(cut)
    _images.remove(cut)

    # --- what came back, against what was acknowledged ---
    acked_at = {}
    for first, k, _base, t in producer.acked:
        for i in range(first, first + k):
            acked_at[i] = t
    topic_lost = records is None
    records = records or []
    seen = []
    prev_off = -1
    for off, key, val in records:
        if off <= prev_off:
            problems.append("offset %d after %d" % (off, prev_off))
        prev_off = off
        try:
            n = int(key)
        except (TypeError, ValueError):
            problems.append("offset %d: key %r is no message number" % (off, key))
            continue
        if val != value_of(n):
            problems.append("offset %d: message %d has other bytes than were sent" % (off, n))
            continue
        seen.append(n)
    present = set(seen)
    acked_in_log = [n for n in seen if n in acked_at]
    if acked_in_log != sorted(set(acked_in_log)):
        problems.append("acknowledged messages out of order or repeated in the log")
    lost = sorted(set(acked_at) - present)
    unacked_present = len(present - set(acked_at))
    window = (t_cut - min(acked_at[n] for n in lost)) if lost else 0.0
    newest_lost = max(0.0, t_cut - max(acked_at[n] for n in lost)) if lost else 0.0
    lat = producer.latencies
    res = {
        "mode": mode, "cut": index, "after": t_cut - t_start, "copy": copy_s, "fsck": fsck_rc,
        "acked": len(acked_at), "read": len(records), "lost": len(lost),
        "unacked_present": unacked_present, "window": window, "newest_lost": newest_lost,
        "topic_lost": topic_lost, "problems": problems, "ended": producer.ended,
        "p50": percentile(lat, 0.5), "p99": percentile(lat, 0.99), "max": max(lat) if lat else 0.0,
    }
    log("%-8s cut %d at %.2f s (copy %.2f s, e2fsck exit %d): %d acknowledged, %d read back, "
        "%d acknowledged lost%s, %d never acknowledged present%s; produce latency p50 %.1f ms, "
        "p99 %.1f ms, max %.1f ms; producer: %s"
        % (mode, index, res["after"], copy_s, fsck_rc, res["acked"], res["read"], res["lost"],
           " (acknowledged %.2f-%.2f s before the cut)" % (window, newest_lost) if lost else "",
           unacked_present, ", topic gone" if topic_lost else "",
           res["p50"] * 1e3, res["p99"] * 1e3, res["max"] * 1e3, producer.ended))
    for p in problems[:10]:
        log("  problem: " + p)
    return res


def parse_modes(s):
    out = []
    for item in s.split(","):
        mode, _, n = item.partition(":")
        if mode not in ("always", "interval", "never") or not n.isdigit():
            raise argparse.ArgumentTypeError("want MODE:CUTS[,MODE:CUTS...], got %r" % item)
        out.append((mode, int(n)))
    return out


def parse_range(s):
    lo, _, hi = s.partition("-")
    lo, hi = float(lo), float(hi or lo)
    if not 0 < lo <= hi <= 120:
        raise argparse.ArgumentTypeError("want MIN-MAX seconds within 0-120, got %r" % s)
    return lo, hi


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--broker", required=True)
    ap.add_argument("--modes", type=parse_modes, default=parse_modes("always:5,interval:4,never:2"),
                    help="fsync modes and cuts of each (default always:5,interval:4,never:2)")
    ap.add_argument("--checked", default="always", choices=["always", "interval", "never"],
                    help="the mode that must lose nothing acknowledged (default always)")
    ap.add_argument("--produce-seconds", type=parse_range, default=(1.0, 4.0),
                    help="cut at a random moment this long into producing (default 1-4)")
    ap.add_argument("--max-messages", type=int, default=2000000)
    ap.add_argument("--rate", type=float, default=0,
                    help="at most this many messages a second (default: as fast as acknowledged)")
    ap.add_argument("--budget", type=float, default=190.0,
                    help="start no new cut after this many seconds (default 190)")
    ap.add_argument("--seed", type=int, default=None)
    args = ap.parse_args()

    if os.geteuid() != 0:
        log("skipped: needs root (mount -o loop)")
        return SKIP
    for tool in ("mkfs.ext4", "e2fsck", "mount", "umount", "losetup"):
        if not shutil.which(tool):
            log("skipped: %s not found" % tool)
            return SKIP
    if not os.access(args.broker, os.X_OK):
        log("%s is not an executable" % args.broker)
        return 1
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    log("seed %d (--seed %d repeats the cut moments)" % (seed, seed))
    for k in ("dirty_expire_centisecs", "dirty_writeback_centisecs"):
        try:
            with open("/proc/sys/vm/" + k) as f:
                log("vm.%s = %s" % (k, f.read().strip()))
        except OSError:
            pass

    workdir = tempfile.mkdtemp(prefix="kwire-powercut-")
    _workdirs.append(workdir)
    t0 = time.monotonic()
    results = []
    try:
        # can this machine loop-mount at all? (containers often cannot)
        probe = make_fs(workdir, "probe")
        try:
            mount(probe, os.path.join(workdir, "probe.mnt"))
        except (RuntimeError, subprocess.SubprocessError) as e:
            log("skipped: no loop mount here: %s" % e)
            return SKIP
        umount(os.path.join(workdir, "probe.mnt"))
        os.unlink(probe)
        _images.remove(probe)
        for mode, cuts in args.modes:
            for i in range(cuts):
                if time.monotonic() - t0 > args.budget:
                    log("time budget spent: %s cut %d and later not run" % (mode, i))
                    break
                results.append(one_cut(args, mode, i, rng, workdir))
    except BaseException:
        for name in sorted(os.listdir(workdir)):
            if name.endswith(".log"):
                with open(os.path.join(workdir, name), "rb") as f:
                    tail = f.read()[-2000:].decode("utf-8", "replace")
                log("%s (end):\n%s" % (name, tail))
        raise
    finally:
        cleanup()

    failed = False
    log("summary (seed %d, %.0f s):" % (seed, time.monotonic() - t0))
    for mode, _ in args.modes:
        rs = [r for r in results if r["mode"] == mode]
        if not rs:
            continue
        log("  %-8s %d cuts: acknowledged lost per cut %s of %s; oldest lost acknowledged "
            "%.2f s before its cut; produce latency max %.1f ms"
            % (mode, len(rs), [r["lost"] for r in rs], [r["acked"] for r in rs],
               max(r["window"] for r in rs), max(r["max"] for r in rs) * 1e3))
        for r in rs:
            if r["problems"]:
                failed = True
                log("  FAIL %s cut %d: %d problems with what was read back"
                    % (mode, r["cut"], len(r["problems"])))
            if mode == args.checked and (r["lost"] or r["topic_lost"] and r["acked"]):
                failed = True
                log("  FAIL %s cut %d: %d acknowledged messages lost" % (mode, r["cut"], r["lost"]))
            if mode == args.checked and r["acked"] == 0:
                failed = True
                log("  FAIL %s cut %d: nothing was acknowledged before the cut" % (mode, r["cut"]))
    if not any(r["mode"] == args.checked for r in results):
        log("  FAIL no cut of the checked mode (%s) was run" % args.checked)
        failed = True
    log("FAIL" if failed else "PASS")
    return 1 if failed else 0


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _on_term)
    signal.signal(signal.SIGHUP, _on_term)
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        cleanup()
        sys.exit(130)
