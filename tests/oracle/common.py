"""What the oracles share: finding Kafka's jars and the JDK (or skipping with 77),
a scratch directory that KW_*_KEEP can keep, and compiling the Java side."""
import contextlib
import glob
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def skip(why):
    print(f"{why}: skipped")
    sys.exit(77)


def kafka_lib():
    """The folder of Kafka's jars (KAFKA_LIB, else tests/kafka/lib); skips without them,
    java or javac."""
    source = os.environ.get("KW_SOURCE_DIR", os.path.join(HERE, "..", ".."))
    lib = os.environ.get("KAFKA_LIB", os.path.join(source, "tests", "kafka", "lib"))
    if not glob.glob(os.path.join(lib, "kafka-clients-*.jar")):
        skip(f"no Kafka jars in {lib} (.ci/install-kafka installs them)")
    for tool in ("java", "javac"):
        if shutil.which(tool) is None:
            skip(f"{tool} not found")
    return lib


@contextlib.contextmanager
def scratch(prefix, keep_variable):
    """A temporary directory, copied to $keep_variable (when set) before it goes."""
    keep = os.environ.get(keep_variable)
    tmp = tempfile.mkdtemp(prefix=prefix)
    try:
        yield tmp
    finally:
        if keep:
            shutil.rmtree(keep, ignore_errors=True)
            shutil.copytree(tmp, keep)
        shutil.rmtree(tmp, ignore_errors=True)


def compile_java(source, lib, tmp, label):
    """Compiles source against Kafka's jars into tmp/classes; returns the classpath to run
    it with, or None after printing javac's complaint and "LABEL: javac failed"."""
    classes = os.path.join(tmp, "classes")
    jars = os.path.join(lib, "*")
    javac = subprocess.run(["javac", "-nowarn", "-d", classes, "-cp", jars, source],
                           capture_output=True, text=True)
    if javac.returncode != 0:
        print(javac.stdout + javac.stderr)
        print(f"{label}: javac failed")
        return None
    return classes + os.pathsep + jars
