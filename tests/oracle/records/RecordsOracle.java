// Apache Kafka's own record code (kafka-clients 4.4.0) as the oracle for
// kwire's record batches. One JVM per run: it reads commands from stdin,
// one a line, and answers each with a line "ok ..." or "err ...":
//   gen DIR            writes every case as DIR/NAME.bin plus DIR/NAME.txt,
//                      the description of its content (format below)
//   validate IN OUT    ensureValid() on every batch of IN, walks its records
//                      and writes their description to OUT
//
// Description format, one line each, integers in decimal, bytes in hex,
// "-" for null:
//   batch magic=2 base=B lod=D bts=T mts=T attr=A ple=E pid=P pe=E seq=S crc=C n=N
//   batch magic=0|1 last=O attr=A ts=T crc=C n=N
//   rec off=O ts=T key=HEX value=HEX h=KEY:VALUE,KEY:VALUE
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.util.ArrayList;
import java.util.List;

import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.record.internal.ControlRecordType;
import org.apache.kafka.common.record.internal.DefaultRecordBatch;
import org.apache.kafka.common.record.internal.EndTransactionMarker;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MemoryRecordsBuilder;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.RecordBatch;

public class RecordsOracle {
    static final String[] CODECS = {"none", "gzip", "snappy", "lz4", "zstd"};

    static String hex(ByteBuffer b) {
        if (b == null) return "-";
        StringBuilder sb = new StringBuilder();
        ByteBuffer d = b.duplicate();
        while (d.hasRemaining()) sb.append(String.format("%02x", d.get() & 0xff));
        return sb.toString();
    }

    static String hex(byte[] b) { return b == null ? "-" : hex(ByteBuffer.wrap(b)); }

    static String describe(ByteBuffer buf) {
        StringBuilder sb = new StringBuilder();
        MemoryRecords mr = MemoryRecords.readableRecords(buf.duplicate());
        for (MutableRecordBatch batch : mr.batches()) {
            batch.ensureValid();
            List<String> recs = new ArrayList<>();
            for (Record r : batch) {
                r.ensureValid();
                StringBuilder rs = new StringBuilder();
                rs.append("rec off=").append(r.offset()).append(" ts=").append(r.timestamp());
                rs.append(" key=").append(r.hasKey() ? hex(r.key()) : "-");
                rs.append(" value=").append(r.hasValue() ? hex(r.value()) : "-");
                rs.append(" h=");
                Header[] hs = r.headers();
                for (int i = 0; i < hs.length; i++) {
                    if (i > 0) rs.append(',');
                    rs.append(hex(hs[i].key().getBytes(StandardCharsets.UTF_8))).append(':')
                      .append(hex(hs[i].value()));
                }
                recs.add(rs.toString());
            }
            int attr = batch.compressionType().id
                | (batch.timestampType() == TimestampType.LOG_APPEND_TIME ? 0x08 : 0)
                | (batch.isTransactional() ? 0x10 : 0)
                | (batch.isControlBatch() ? 0x20 : 0);
            if (batch.magic() >= RecordBatch.MAGIC_VALUE_V2) {
                DefaultRecordBatch d = (DefaultRecordBatch) batch;
                if (d.deleteHorizonMs().isPresent()) attr |= 0x40;
                sb.append(String.format(
                    "batch magic=2 base=%d lod=%d bts=%d mts=%d attr=%d ple=%d pid=%d pe=%d seq=%d crc=%d n=%d%n",
                    d.baseOffset(), d.lastOffset() - d.baseOffset(), d.baseTimestamp(), d.maxTimestamp(), attr,
                    d.partitionLeaderEpoch(), d.producerId(), d.producerEpoch(), d.baseSequence(),
                    d.checksum(), d.countOrNull()));
                if (d.countOrNull() != recs.size())
                    throw new IllegalStateException("record count " + d.countOrNull() + " but " + recs.size() + " records");
            } else {
                sb.append(String.format("batch magic=%d last=%d attr=%d ts=%d crc=%d n=%d%n",
                    batch.magic(), batch.lastOffset(), attr, batch.maxTimestamp(), batch.checksum(), recs.size()));
            }
            for (String r : recs) sb.append(r).append('\n');
        }
        return sb.toString();
    }

    static byte[] bytes(String s) { return s == null ? null : s.getBytes(StandardCharsets.UTF_8); }

    static Compression codec(String name) {
        return Compression.of(name).build();
    }

    // Records of the usual batch: keys, a null key, a null value, empty key
    // and value, headers (one with a null value), timestamps moving both ways.
    static void appendUsual(MemoryRecordsBuilder b, long base, long ts, int n) {
        Header[] none = new Header[0];
        Header[] two = {new RecordHeader("trace", bytes("abc-123")), new RecordHeader("nullv", (byte[]) null)};
        Header[] one = {new RecordHeader("", new byte[0])};
        for (int i = 0; i < n; i++) {
            long t = ts + (i * 37L) % 11 - 3;
            switch (i % 6) {
                case 0: b.appendWithOffset(base + i, t, bytes("key-" + i), bytes("value-" + i), none); break;
                case 1: b.appendWithOffset(base + i, t, null, bytes("value with a null key " + i), two); break;
                case 2: b.appendWithOffset(base + i, t, bytes("tombstone-" + i), null, none); break;
                case 3: b.appendWithOffset(base + i, t, new byte[0], new byte[0], one); break;
                case 4: b.appendWithOffset(base + i, t, (byte[]) null, (byte[]) null, two); break;
                default: {
                    byte[] v = new byte[300 + i];
                    for (int j = 0; j < v.length; j++) v[j] = (byte) ((j * 7 + i) % 13 + 'a');
                    b.appendWithOffset(base + i, t, bytes("long-" + i), v, two);
                }
            }
        }
    }

    interface Case { ByteBuffer make() throws Exception; }

    static void write(Path dir, String name, ByteBuffer buf) throws Exception {
        byte[] out = new byte[buf.remaining()];
        buf.duplicate().get(out);
        Files.write(dir.resolve(name + ".bin"), out);
        Files.write(dir.resolve(name + ".txt"), describe(buf).getBytes(StandardCharsets.UTF_8));
    }

    static MemoryRecordsBuilder v2(String codec, TimestampType tt, long base, long logAppend,
                                   long pid, short epoch, int seq, boolean txn, int ple) {
        return MemoryRecords.builder(ByteBuffer.allocate(1 << 16), RecordBatch.MAGIC_VALUE_V2, codec(codec),
            tt, base, logAppend, pid, epoch, seq, txn, false, ple);
    }

    static int gen(Path dir, StringBuilder notes) throws Exception {
        Files.createDirectories(dir);
        int count = 0;
        final long ts = 1700000000000L;
        for (String c : CODECS) {
            MemoryRecordsBuilder b = v2(c, TimestampType.CREATE_TIME, 0, RecordBatch.NO_TIMESTAMP, -1, (short) -1, -1, false, -1);
            appendUsual(b, 0, ts, 12);
            write(dir, "v2-" + c + "-plain", b.build().buffer()); count++;

            b = v2(c, TimestampType.CREATE_TIME, 1000, RecordBatch.NO_TIMESTAMP, -1, (short) -1, -1, false, 5);
            b.appendWithOffset(1000, ts, bytes("only"), bytes("one"), new Header[0]);
            write(dir, "v2-" + c + "-single", b.build().buffer()); count++;

            b = v2(c, TimestampType.LOG_APPEND_TIME, 77, ts + 999, -1, (short) -1, -1, false, 2);
            appendUsual(b, 77, ts, 7);
            write(dir, "v2-" + c + "-logappend", b.build().buffer()); count++;

            b = v2(c, TimestampType.CREATE_TIME, 500, RecordBatch.NO_TIMESTAMP, 4242L, (short) 3, 17, false, 9);
            appendUsual(b, 500, ts, 6);
            write(dir, "v2-" + c + "-idempotent", b.build().buffer()); count++;

            b = v2(c, TimestampType.CREATE_TIME, 9000, RecordBatch.NO_TIMESTAMP, 123456789012L, (short) 0, 0, true, 11);
            appendUsual(b, 9000, ts, 9);
            write(dir, "v2-" + c + "-transactional", b.build().buffer()); count++;

            // several batches, one after the other, with an offset gap inside one
            ByteBuffer all = ByteBuffer.allocate(1 << 18);
            for (int k = 0; k < 3; k++) {
                b = v2(c, TimestampType.CREATE_TIME, 100L * k, RecordBatch.NO_TIMESTAMP, 77L, (short) 1, 10 * k, k == 2, 4);
                appendUsual(b, 100L * k, ts + k * 1000, 3 + k);
                if (k == 1) b.appendWithOffset(100L * k + 50, ts - 5000, bytes("gap"), bytes("after a gap"), new Header[0]);
                all.put(b.build().buffer());
            }
            all.flip();
            write(dir, "v2-" + c + "-multi", all); count++;
        }
        // control batches (always uncompressed)
        write(dir, "control-commit", MemoryRecords.withEndTransactionMarker(321L, ts + 1, 6, 4242L, (short) 3,
            new EndTransactionMarker(ControlRecordType.COMMIT, 15)).buffer()); count++;
        write(dir, "control-abort", MemoryRecords.withEndTransactionMarker(322L, ts + 2, 6, 123456789012L, (short) 0,
            new EndTransactionMarker(ControlRecordType.ABORT, 0)).buffer()); count++;
        {
            ByteBuffer all = ByteBuffer.allocate(1 << 16);
            MemoryRecordsBuilder b = v2("none", TimestampType.CREATE_TIME, 10, RecordBatch.NO_TIMESTAMP, 55L, (short) 2, 0, true, 1);
            appendUsual(b, 10, ts, 4);
            all.put(b.build().buffer());
            all.put(MemoryRecords.withEndTransactionMarker(14L, ts + 3, 1, 55L, (short) 2,
                new EndTransactionMarker(ControlRecordType.COMMIT, 2)).buffer());
            all.flip();
            write(dir, "control-txn-then-commit", all); count++;
        }
        // legacy magic 0 and 1, if this Kafka still writes them
        for (byte magic = 0; magic <= 1; magic++) {
            for (String c : new String[] {"none", "gzip", "snappy", "lz4"}) {
                for (TimestampType tt : magic == 0 ? new TimestampType[] {TimestampType.CREATE_TIME}
                                                   : new TimestampType[] {TimestampType.CREATE_TIME, TimestampType.LOG_APPEND_TIME}) {
                    String name = "legacy-v" + magic + "-" + c + (tt == TimestampType.LOG_APPEND_TIME ? "-logappend" : "");
                    try {
                        MemoryRecordsBuilder b = MemoryRecords.builder(ByteBuffer.allocate(1 << 16), magic, codec(c),
                            magic == 0 ? TimestampType.NO_TIMESTAMP_TYPE : tt, 40L,
                            tt == TimestampType.LOG_APPEND_TIME ? ts + 42 : RecordBatch.NO_TIMESTAMP);
                        for (int i = 0; i < 5; i++) {
                            byte[] k = i == 1 ? null : bytes("lk" + i);
                            byte[] v = i == 2 ? null : bytes("legacy value " + i);
                            b.appendWithOffset(40L + i, magic == 0 ? RecordBatch.NO_TIMESTAMP : ts + i * 3, k, v);
                        }
                        write(dir, name, b.build().buffer()); count++;
                    } catch (Exception | Error e) {
                        notes.append(" ").append(name).append(":").append(e.getClass().getSimpleName());
                    }
                }
            }
        }
        return count;
    }

    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            String[] w = line.trim().split(" ");
            try {
                if (w[0].equals("gen")) {
                    StringBuilder notes = new StringBuilder();
                    int n = gen(Paths.get(w[1]), notes);
                    System.out.println("ok " + n + (notes.length() > 0 ? " not-written:" + notes : ""));
                } else if (w[0].equals("validate")) {
                    byte[] data = Files.readAllBytes(Paths.get(w[1]));
                    String d = describe(ByteBuffer.wrap(data));
                    Files.write(Paths.get(w[2]), d.getBytes(StandardCharsets.UTF_8));
                    System.out.println("ok");
                } else {
                    System.out.println("err unknown command " + w[0]);
                }
            } catch (Exception | Error e) {
                String m = String.valueOf(e.getMessage()).replace('\n', ' ');
                System.out.println("err " + e.getClass().getSimpleName() + ": " + m);
            }
            System.out.flush();
        }
    }
}
