#!/usr/bin/env python3
"""Adds up the results of every meson test run in the given build dirs.

Criterion suites count their own test cases (from their "Synthesis" line);
any other meson test counts as one. Ends with 'N passed, N failed'."""
import json
import re
import sys

SYNTHESIS = re.compile(r"Synthesis: Tested: (\d+) \| Passing: (\d+) \| Failing: (\d+) \| Crashing: (\d+)")

passed = failed = skipped = 0
for build in sys.argv[1:]:
    try:
        log = open(f"{build}/meson-logs/testlog.json", encoding="utf-8")
    except OSError:
        print(f"summarize: {build}: no test log", file=sys.stderr)
        failed += 1
        continue
    for line in log:
        t = json.loads(line)
        out = (t.get("stdout") or "") + (t.get("stderr") or "")
        m = SYNTHESIS.findall(out)
        if t["result"] == "SKIP":
            skipped += 1
        elif m:
            tested, passing, failing, crashing = map(int, m[-1])
            passed += passing
            failed += failing
            skipped += tested - passing - failing
            if t["result"] != "OK" and failing == 0:
                failed += 1  # the suite failed outside its cases (e.g. a sanitizer report)
        elif t["result"] in ("OK", "EXPECTEDFAIL"):
            passed += 1
        else:
            failed += 1
print(f"kwire: {passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed else 0)
