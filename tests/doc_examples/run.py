#!/usr/bin/env python3
"""run.py EXE ARGS EXPECT: runs a document's example as its text says.

ARGS (split as a shell would, paths relative to the source root, the
working directory) are its arguments; it must exit 0 and print EXPECT.
"""
import shlex
import subprocess
import sys


def main():
    exe, args, expect = sys.argv[1], sys.argv[2], sys.argv[3]
    if not expect:
        print("the example has no <!-- example: args=... expect=... --> line before it")
        return 1
    p = subprocess.run([exe] + shlex.split(args), capture_output=True, text=True, timeout=60)
    sys.stdout.write(p.stdout)
    sys.stderr.write(p.stderr)
    if p.returncode != 0:
        print("example exited with %d" % p.returncode)
        return 1
    if expect not in p.stdout:
        print("example did not print %r" % expect)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
