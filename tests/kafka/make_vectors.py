#!/usr/bin/env python3
"""make_vectors.py CAPTURE_DIR OUT_DIR: a tests/vectors set from a relay.py capture.

Keeps every Produce and Fetch request (each codec, idempotent, transactional and
plain batches); of every other (api_key, api_version) at most 5 requests, first
the one with the largest response, then ones whose (request size, response size)
differs; a kept request keeps its response. Copies the kept frames, their
index.tsv rows (file names and numbers unchanged, so gaps mark dropped frames)
and the whole session.pcap. Standard library only.
"""
import collections
import os
import shutil
import sys

KEEP_ALL = {0, 1}
CAP = 5


def main(argv):
    src, out = argv[1], argv[2]
    with open(os.path.join(src, "index.tsv")) as f:
        lines = f.read().splitlines()
    head, rows = lines[0], [l.split("\t") for l in lines[1:] if l]
    cols = head.split("\t")
    rows = [dict(zip(cols, r)) for r in rows]
    # A response by (conn, correlation id); each request's pair.
    rsp = {(r["conn"], r["correlation_id"]): r for r in rows if r["direction"] == "rsp"}
    groups = collections.defaultdict(list)
    for r in rows:
        if r["direction"] == "req":
            groups[(int(r["api_key"]), int(r["api_version"]))].append(r)
    keep = set()
    for (key, _), reqs in groups.items():
        def rsize(r):
            p = rsp.get((r["conn"], r["correlation_id"]))
            return int(p["size"]) if p else 0
        if key in KEEP_ALL or len(reqs) <= CAP:
            chosen = reqs
        else:
            order = sorted(reqs, key=lambda r: -rsize(r))
            chosen, shapes = [order[0]], {(order[0]["size"], rsize(order[0]))}
            for r in order[1:]:
                if len(chosen) < CAP and (r["size"], rsize(r)) not in shapes:
                    chosen.append(r)
                    shapes.add((r["size"], rsize(r)))
            for r in reqs:
                if len(chosen) < CAP and r not in chosen:
                    chosen.append(r)
        for r in chosen:
            keep.add(r["file"])
            p = rsp.get((r["conn"], r["correlation_id"]))
            if p:
                keep.add(p["file"])
    os.makedirs(out, exist_ok=True)
    kept = [r for r in rows if r["file"] in keep]
    with open(os.path.join(out, "index.tsv"), "w") as f:
        f.write(head + "\n")
        for r in kept:
            f.write("\t".join(r[c] for c in cols) + "\n")
            shutil.copyfile(os.path.join(src, r["file"]), os.path.join(out, r["file"]))
    shutil.copyfile(os.path.join(src, "session.pcap"), os.path.join(out, "session.pcap"))
    print("%d of %d frames kept" % (len(kept), len(rows)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
