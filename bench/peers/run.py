#!/usr/bin/env python3
"""kwire beside its peers on the same frames, in one run.

    python3 bench/peers/run.py [--build-dir DIR] [--seconds S]

builds kwire-bench (release) and the peers (Go: franz-go kmsg; Rust: the
kafka-protocol crate; Java: kafka-clients' message classes), fetching their
locked dependencies from the registries; exports the frames
(kwire-bench --export-frames); runs kwire-bench's cases on those frames and
then every peer; prints one table: per frame, each decoder's time per frame
and its ratio to kwire's (peer time / kwire time), and for record-heavy
frames each one's throughput as a fraction of raw CRC-32C over the same
bytes (measured by kwire-bench in the same case).

    python3 bench/peers/run.py --check --kwire-bench PATH

is the smoke check (meson test bench-peers): each peer decodes every frame
once and must count what kwire counts (topics, partitions, batches, records,
headers, API keys). The Go peer is built if missing; the Rust and Java peers
only run when this script has built them (their builds take minutes). Exit
77 when no peer could run.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
GO_BIN = os.path.join(HERE, "go", "kwire-peer-go")
RUST_BIN = os.path.join(HERE, "rust", "target", "release", "kwire-peer-rust")
JAVA_CLASSES = os.path.join(HERE, "java", "target", "classes")
JAVA_DEPS = os.path.join(HERE, "java", "target", "dependency")


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def run(cmd, cwd=None, env=None, capture=False, timeout=900):
    log("+", " ".join(cmd))
    return subprocess.run(cmd, cwd=cwd, env=env, check=True, timeout=timeout,
                          stdout=subprocess.PIPE if capture else None, text=True)


# ---- peers -----------------------------------------------------------------------

def peer_commands(frames_dir, mode, seconds):
    """name -> command line, for each peer built."""
    common = ["--dir", frames_dir, "--mode", mode, "--seconds", str(seconds)]
    peers = {}
    if os.path.exists(GO_BIN):
        peers["kmsg"] = [GO_BIN, "-dir", frames_dir, "-mode", mode, "-seconds", str(seconds)]
    if os.path.exists(RUST_BIN):
        peers["kafka-protocol"] = [RUST_BIN] + common
    if os.path.isdir(JAVA_CLASSES) and os.path.isdir(JAVA_DEPS) and shutil.which("java"):
        cp = JAVA_CLASSES + os.pathsep + os.path.join(JAVA_DEPS, "*")
        # Fixed heap, so no run pays for growing it; C2 as usual.
        peers["kafka-clients"] = ["java", "-Xms512m", "-Xmx512m", "-cp", cp,
                                  "kwire.peers.Peer"] + common + ["--warmup", str(2 * seconds)]
    return peers


def build_go(timeout=900):
    if not shutil.which("go"):
        log("go not found: the kmsg peer is skipped")
        return
    env = dict(os.environ, GOFLAGS="-mod=readonly")
    run(["go", "build", "-trimpath", "-o", GO_BIN, "."], cwd=os.path.join(HERE, "go"), env=env,
        timeout=timeout)


def build_rust():
    if not shutil.which("cargo"):
        log("cargo not found: the kafka-protocol peer is skipped")
        return
    run(["cargo", "build", "--release", "--locked", "--quiet"], cwd=os.path.join(HERE, "rust"))


def build_java():
    if not shutil.which("mvn") or not shutil.which("java"):
        log("mvn or java not found: the kafka-clients peer is skipped")
        return
    run(["mvn", "-q", "-B", "package"], cwd=os.path.join(HERE, "java"))


def read_lines(out):
    return [json.loads(l) for l in out.splitlines() if l.strip().startswith("{")]


# ---- kwire -------------------------------------------------------------------------

def build_kwire(build_dir):
    if not os.path.exists(os.path.join(build_dir, "build.ninja")):
        run(["meson", "setup", build_dir, ROOT, "-Dbenchmarks=true", "-Dtests=disabled",
             "-Dexamples=false", "--buildtype=release"])
    run(["ninja", "-C", build_dir, "bench/kwire-bench"])
    return os.path.join(build_dir, "bench", "kwire-bench")


def export(kwire_bench, frames_dir):
    os.makedirs(frames_dir, exist_ok=True)
    run([kwire_bench, "--export-frames=" + frames_dir])
    with open(os.path.join(frames_dir, "frames.jsonl")) as f:
        return [json.loads(l) for l in f if l.strip()]


def run_kwire(kwire_bench, frames, seconds):
    """kwire-bench's case for each frame: {frame name: benchmark entry}."""
    names = {f["kwire_case"]: f["name"] for f in frames}
    pattern = "^(" + "|".join(n.replace("/", "/") for n in names) + ")$"
    out = run([kwire_bench, "--benchmark_filter=" + pattern, "--benchmark_format=json",
               "--benchmark_min_time=%g" % seconds], capture=True).stdout
    result = {}
    for b in json.loads(out)["benchmarks"]:
        if b["name"] in names:
            result[names[b["name"]]] = b
    return result


def ns_per(b):
    """Wall-clock ns per iteration (the peers time wall clock too)."""
    scale = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}[b.get("time_unit", "ns")]
    return b["real_time"] * scale


# ---- the two modes ---------------------------------------------------------------

def check(args):
    with tempfile.TemporaryDirectory(prefix="kwire-peers-") as frames_dir:
        frames = export(args.kwire_bench, frames_dir)
        if not os.path.exists(GO_BIN):
            try:
                build_go(timeout=120)  # inside the test's 180 s
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as e:
                log("kmsg peer not built (%s): skipped" % e)
        peers = peer_commands(frames_dir, "count", 0)
        for name in ("kmsg", "kafka-protocol", "kafka-clients"):
            if name not in peers:
                log("SKIP %s: not built (bench/peers/run.py builds it)" % name)
        if not peers:
            return 77
        expected = {f["name"]: f["counts"] for f in frames}
        failures = 0
        for name, cmd in peers.items():
            before = failures
            proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, timeout=300)
            seen = {l["frame"]: l["counts"] for l in read_lines(proc.stdout)}
            for frame, counts in expected.items():
                got = seen.get(frame)
                if got != counts:
                    log("FAIL %s %s: counted %s, kwire counts %s" % (name, frame, got, counts))
                    failures += 1
            if proc.returncode != 0:
                log("FAIL %s: exit %d" % (name, proc.returncode))
                failures += 1
            elif failures == before:
                log("ok %s: %d frames counted as kwire counts them" % (name, len(seen)))
        print("%d passed, %d failed" % (len(peers) * len(expected) - failures, failures))
        return 1 if failures else 0


def bench(args):
    t0 = time.time()
    kwire_bench = args.kwire_bench or build_kwire(args.build_dir)
    if not args.no_build:
        for builder in (build_go, build_rust, build_java):
            builder()
    frames_dir = os.path.join(args.build_dir, "peer-frames")
    frames = export(kwire_bench, frames_dir)
    kwire = run_kwire(kwire_bench, frames, args.seconds)
    peers = peer_commands(frames_dir, "bench", args.seconds)
    results = {}
    for name, cmd in peers.items():
        out = run(cmd, capture=True).stdout
        results[name] = {l["frame"]: l for l in read_lines(out)}
    expected = {f["name"]: f["counts"] for f in frames}
    for name, lines in results.items():
        for frame, counts in expected.items():
            if lines.get(frame, {}).get("counts") != counts:
                log("WARNING: %s counted %s in %s, kwire %s" %
                    (name, lines.get(frame, {}).get("counts"), frame, counts))
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({"kwire": kwire, "peers": results, "frames": frames}, f, indent=1)
    print_table(frames, kwire, results)
    log("whole run: %.0f s wall" % (time.time() - t0))
    return 0


def fmt_ns(ns):
    return "{:,.0f}".format(ns) if ns >= 100 else "%.1f" % ns


def print_table(frames, kwire, results):
    peers = list(results)
    head = ["frame", "bytes", "kwire ns"] + ["%s ns (x kwire)" % p for p in peers]
    print("| " + " | ".join(head) + " |")
    print("| --- | " + " | ".join("---:" for _ in head[1:]) + " |")
    for f in frames:
        k = kwire.get(f["name"])
        if not k:
            continue
        kns = ns_per(k)
        row = ["`%s`" % f["name"], "{:,}".format(f["bytes"]), fmt_ns(kns)]
        for p in peers:
            line = results[p].get(f["name"])
            row.append("%s (**%.1f**)" % (fmt_ns(line["ns_per_frame"]), line["ns_per_frame"] / kns)
                       if line and "ns_per_frame" in line else "-")
        print("| " + " | ".join(row) + " |")
    print()
    record_frames = [f for f in frames if f["records"] and f["counts"].get("records")]
    if not record_frames:
        return
    head = ["frame", "raw CRC-32C GiB/s", "memcpy GiB/s", "kwire GiB/s (of CRC)"] + \
           ["%s GiB/s (of CRC)" % p for p in peers]
    print("| " + " | ".join(head) + " |")
    print("| --- | " + " | ".join("---:" for _ in head[1:]) + " |")
    gib = float(1 << 30)
    for f in record_frames:
        k = kwire.get(f["name"])
        if not k or "crc32c_Bps" not in k:
            continue
        crc = k["crc32c_Bps"]
        krate = f["bytes"] / (ns_per(k) * 1e-9)
        row = ["`%s`" % f["name"], "%.2f" % (crc / gib), "%.2f" % (k["memcpy_Bps"] / gib),
               "%.3f (**%.3f**)" % (krate / gib, krate / crc)]
        for p in peers:
            line = results[p].get(f["name"])
            row.append("%.3f (**%.3f**)" % (line["bytes_per_s"] / gib, line["bytes_per_s"] / crc)
                       if line and "bytes_per_s" in line else "-")
        print("| " + " | ".join(row) + " |")


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build-bench"),
                    help="kwire's release build (set up if missing) and the exported frames")
    ap.add_argument("--kwire-bench", help="a built kwire-bench instead of building one")
    ap.add_argument("--seconds", type=float, default=0.5,
                    help="timed seconds per frame and decoder (peers warm up as long again)")
    ap.add_argument("--no-build", action="store_true", help="use the peers as already built")
    ap.add_argument("--json-out", help="also write every number of the run to this file")
    ap.add_argument("--check", action="store_true", help="the smoke check (counts only)")
    args = ap.parse_args()
    if args.check:
        if not args.kwire_bench:
            ap.error("--check needs --kwire-bench")
        return check(args)
    return bench(args)


if __name__ == "__main__":
    sys.exit(main())
