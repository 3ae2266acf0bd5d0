#!/usr/bin/env python3
"""run.py ERRORS_ORACLE: kwire's Kafka error table (kw_kafka_error_name,
kw_kafka_error_retriable) against kafka-clients' Errors enum: the same codes,
names and retriability, both ways. One line per difference, then
"errors-oracle: N passed, M failed". Exit 0 when all agree, 1 otherwise, 77
without the jars, java or javac.
"""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import common  # noqa: E402  (tests/oracle/common.py)


def table(lines):
    out = {}
    for line in lines.splitlines():
        code, name, retriable = line.split()
        out[int(code)] = (name, retriable == "1")
    return out


def main():
    oracle = sys.argv[1]
    lib = common.kafka_lib()
    with common.scratch("kwire-errors-oracle.", "KW_ERRORS_KEEP") as tmp:
        cp = common.compile_java(os.path.join(HERE, "ErrorsOracle.java"), lib, tmp, "errors-oracle")
        if cp is None:
            return 1
        java = table(subprocess.run(["java", "-cp", cp, "ErrorsOracle"], check=True,
                                    capture_output=True, text=True).stdout)
    kwire = table(subprocess.run([oracle], check=True, capture_output=True, text=True).stdout)
    passed = failed = 0
    for code in sorted(set(java) | set(kwire)):
        if java.get(code) == kwire.get(code):
            passed += 1
        else:
            failed += 1
            print(f"FAIL code {code}: Kafka {java.get(code)}, kwire {kwire.get(code)}")
    print(f"Kafka's Errors: {len(java)} codes, {sum(r for _, r in java.values())} retriable; "
          f"kwire: {len(kwire)} codes")
    print(f"errors-oracle: {passed} passed, {failed} failed")
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
