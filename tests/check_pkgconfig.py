#!/usr/bin/env python3
"""kwire.pc links statically: Requires.private and Libs.private carry what
the codecs this build has need (snappy is C++: -lstdc++ -lm after -lsnappy),
and a small program linked with -static and exactly
`pkg-config --static --cflags --libs kwire` (libdir pointed at this build)
runs and round-trips every codec.

    check_pkgconfig.py BUILD_ROOT SOURCE_ROOT SANITIZE CC [CC ARGS...]

Exits 77 (skipped) without pkg-config, under sanitizers, or where the C
library cannot be linked statically at all.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

PROGRAM = r"""
#include <stdio.h>
#include <string.h>
#include <kwire/compress.h>

int main(void)
{
    static const char text[] = "kwire kwire kwire kwire kwire kwire kwire kwire";
    int failed = 0;
    for (int c = KW_COMPRESSION_GZIP; c <= KW_COMPRESSION_ZSTD; c++) {
        kw_compression codec = (kw_compression)c;
        if (!kw_compression_available(codec))
            continue;
        uint8_t z[512], back[128];
        size_t zlen, size, blen;
        kw_slice in = {(const uint8_t *)text, sizeof text};
        if (kw_compress(codec, 0, in, z, sizeof z, &zlen) != KW_OK ||
            kw_decompressed_size(codec, (kw_slice){z, zlen}, sizeof back, &size) != KW_OK ||
            kw_decompress(codec, (kw_slice){z, zlen}, back, size, &blen) != KW_OK ||
            blen != sizeof text || memcmp(back, text, blen) != 0)
            failed = 1;
        printf("%s: %s\n", kw_compression_name(codec), failed ? "FAILED" : "ok");
    }
    return failed;
}
"""

# What each codec needs in kwire.pc (KW_HAVE_* as lib/codecs/kw_codecs.h says).
NEEDS = {
    "ZLIB": (["zlib"], []),
    "LZ4": (["liblz4"], []),
    "ZSTD": (["libzstd"], []),
    "SNAPPY": ([], ["-lsnappy", "-lstdc++", "-lm"]),
}


def pc_field(text, name):
    m = re.search(r"^" + re.escape(name) + r":(.*)$", text, re.M)
    return m.group(1).strip() if m else ""


def main():
    build, source, sanitize, cc = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    pc_path = os.path.join(build, "meson-private", "kwire.pc")
    text = open(pc_path).read()
    codecs_h = open(os.path.join(build, "lib", "codecs", "kw_codecs.h")).read()
    have = {k for k in NEEDS if re.search(r"#define KW_HAVE_%s 1" % k, codecs_h)}

    requires = [r.split()[0] for r in pc_field(text, "Requires.private").split(",") if r.strip()]
    libs = pc_field(text, "Libs.private").split()
    bad = []
    for codec in sorted(have):
        want_req, want_libs = NEEDS[codec]
        bad += ["Requires.private lacks %s (%s)" % (r, codec) for r in want_req if r not in requires]
        bad += ["Libs.private lacks %s (%s)" % (l, codec) for l in want_libs if l not in libs]
        # static link order: the C++ runtime after the library that needs it
        if codec == "SNAPPY" and not bad and libs.index("-lsnappy") > libs.index("-lstdc++"):
            bad.append("Libs.private: -lstdc++ before -lsnappy")
    for b in bad:
        print("kwire.pc: " + b)
    if bad:
        print(text)
        return 1
    print("kwire.pc: Requires.private %s; Libs.private %s (codecs: %s)"
          % (requires, libs, ", ".join(sorted(have)) or "none"))

    if shutil.which("pkg-config") is None:
        print("no pkg-config: link not tried")
        return 77
    if sanitize not in ("", "none"):
        print("b_sanitize=%s: a -static link of an instrumented libkwire.a is not tried" % sanitize)
        return 77
    with tempfile.TemporaryDirectory() as tmp:
        # libkwire.a and the headers where kwire.pc says, as an install would put them,
        # and kwire.pc itself with its prefix moved there
        prefix = os.path.join(tmp, "prefix")
        libdir = re.search(r"^libdir=\$\{prefix\}/(.*)$", text, re.M).group(1).strip()
        os.makedirs(os.path.join(prefix, libdir, "pkgconfig"))
        shutil.copy(os.path.join(build, "lib", "libkwire.a"), os.path.join(prefix, libdir))
        os.symlink(os.path.join(source, "include"), os.path.join(prefix, "include"))
        with open(os.path.join(prefix, libdir, "pkgconfig", "kwire.pc"), "w") as f:
            f.write(re.sub(r"^prefix=.*$", "prefix=" + prefix, text, flags=re.M))
        env = dict(os.environ, PKG_CONFIG_PATH=os.path.join(prefix, libdir, "pkgconfig"))
        flags = subprocess.run(["pkg-config", "--static", "--cflags", "--libs", "kwire"], env=env,
                               check=True, capture_output=True, text=True).stdout.split()
        src = os.path.join(tmp, "x.c")
        open(src, "w").write(PROGRAM)
        hello = os.path.join(tmp, "hello.c")
        open(hello, "w").write("int main(void) { return 0; }\n")
        if subprocess.run(cc + [hello, "-static", "-o", os.path.join(tmp, "hello")],
                          capture_output=True).returncode != 0:
            print("this C library does not link -static: link not tried")
            return 77
        exe = os.path.join(tmp, "x")
        cmd = cc + ["-std=c11", src] + flags + ["-static", "-o", exe]
        print(" ".join(cmd))
        link = subprocess.run(cmd, capture_output=True, text=True)
        if link.returncode != 0:
            print(link.stdout + link.stderr)
            print("static link with pkg-config --static flags failed")
            return 1
        run = subprocess.run([exe], capture_output=True, text=True)
        print(run.stdout, end="")
        return 0 if run.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
