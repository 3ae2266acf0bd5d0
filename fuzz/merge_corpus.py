#!/usr/bin/env python3
"""Merges what fuzzing runs found into a committed corpus, within a budget.

    python3 fuzz/merge_corpus.py --fuzzer build-fuzz/fuzz/request_fuzzer \\
        --target request [--max-files 300] DIR...

libFuzzer's -merge=1 copies every input that adds a feature, hundreds after
a few minutes, which would bloat fuzz/corpus. This runs the same merge
(edges only: -use_counters=0) against a temporary copy of
fuzz/corpus/<target>/, reads its control file, ranks the inputs of DIR...
by the coverage edges each added (as the merge met them: smallest first),
and copies the best into fuzz/corpus/<target>/ as found-<sha1>, until the
directory holds --max-files files or nothing adds an edge. The ranking is
greedy and approximate; it never removes committed files.
"""
import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "fuzz", "corpus")


def parse_control(path):
    """Returns (files, initial count, {index: (new edges, new features)})."""
    with open(path) as f:
        lines = f.read().splitlines()
    n, initial = int(lines[0]), int(lines[1])
    files = lines[2:2 + n]
    gains = {}
    for line in lines[2 + n:]:
        parts = line.split()
        if not parts or parts[0] not in ("FT", "COV"):
            continue
        i = int(parts[1])
        edges, feats = gains.get(i, (0, 0))
        if parts[0] == "COV":
            edges = len(parts) - 2
        else:
            feats = len(parts) - 2
        gains[i] = (edges, feats)
    return files, initial, gains


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fuzzer", required=True, help="a libFuzzer build of the target")
    ap.add_argument("--target", required=True, help="the corpus: fuzz/corpus/TARGET")
    ap.add_argument("--max-files", type=int, default=300)
    ap.add_argument("dirs", nargs="+", help="directories of inputs a fuzzing run found")
    args = ap.parse_args()

    corpus = os.path.join(CORPUS, args.target)
    have = sorted(os.listdir(corpus))
    budget = args.max_files - len(have)
    if budget <= 0:
        print(f"merge_corpus: {args.target}: already {len(have)} files, nothing merged")
        return
    known = set()
    for name in have:
        with open(os.path.join(corpus, name), "rb") as f:
            known.add(hashlib.sha1(f.read()).hexdigest())

    with tempfile.TemporaryDirectory() as tmp:
        first = os.path.join(tmp, "corpus")
        shutil.copytree(corpus, first)
        control = os.path.join(tmp, "control")
        cmd = [args.fuzzer, "-merge=1", "-use_counters=0", "-rss_limit_mb=2048", "-timeout=10",
               f"-merge_control_file={control}", first] + args.dirs
        run = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if run.returncode != 0:
            sys.stderr.write(run.stdout[-4000:])
            sys.exit(f"merge_corpus: {' '.join(cmd)} failed ({run.returncode})")
        files, initial, gains = parse_control(control)

    candidates = []
    for i in range(initial, len(files)):
        edges, feats = gains.get(i, (0, 0))
        if edges == 0 and feats == 0:
            continue
        size = os.path.getsize(files[i])
        candidates.append((-edges, -feats, size, files[i]))
    candidates.sort()
    picked, gained = 0, 0
    for neg_edges, _, _, path in candidates:
        if picked == budget:
            break
        with open(path, "rb") as f:
            data = f.read()
        digest = hashlib.sha1(data).hexdigest()
        if digest in known:
            continue
        known.add(digest)
        with open(os.path.join(corpus, "found-" + digest), "wb") as f:
            f.write(data)
        picked += 1
        gained += -neg_edges
    size = sum(os.path.getsize(os.path.join(corpus, n)) for n in os.listdir(corpus))
    print(f"merge_corpus: {args.target}: {len(candidates)} inputs add coverage, {picked} merged "
          f"(+{gained} edges as met); now {len(have) + picked} files, {size} bytes")


if __name__ == "__main__":
    main()
