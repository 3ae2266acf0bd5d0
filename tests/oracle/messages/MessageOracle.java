// Apache Kafka's generated message classes (kafka-clients, and kafka-metadata
// for the KRaft log records) as the reference codec for kwire. One JVM answers
// commands on stdin, one per line, and ends each answer with a line "end ...":
//   list          every request, response and KRaft record it knows:
//                 "msg NAME LOW HIGH"
//   decode DIR    reads each NAME.VERSION.SEED.bin in DIR, which must be
//                 consumed exactly and re-encode to the same bytes; writes
//                 its JSON rendering as NAME.VERSION.SEED.java.json
//   encode DIR    reads each NAME.VERSION.SEED.in.json through the message's
//                 JsonConverter, writes its encoding NAME.VERSION.SEED.bin
//                 and its JSON rendering NAME.VERSION.SEED.java.json
// Problems come as "fail FILE: what" lines; "end OK FAILED" closes decode
// and encode.
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.TreeMap;
import java.util.function.Supplier;
import org.apache.kafka.common.message.ApiMessageType;
import org.apache.kafka.common.metadata.MetadataRecordType;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.ObjectSerializationCache;

public class MessageOracle {
    static final ObjectMapper JSON = new ObjectMapper();
    static final TreeMap<String, Supplier<ApiMessage>> MESSAGES = new TreeMap<>();
    static final PrintStream OUT = new PrintStream(System.out, true, StandardCharsets.UTF_8);

    static {
        for (ApiMessageType t : ApiMessageType.values()) {
            // keys Kafka 4 removed (LeaderAndIsr, ...) are listed but have no classes
            try {
                MESSAGES.put(name(t.newRequest()), t::newRequest);
                MESSAGES.put(name(t.newResponse()), t::newResponse);
            } catch (RuntimeException gone) {
            }
        }
        // KRaft metadata log records (kafka-metadata): "TopicRecord" in both projects
        for (MetadataRecordType t : MetadataRecordType.values())
            MESSAGES.put(name(t.newMetadataRecord()), t::newMetadataRecord);
    }

    // "ProduceRequestData" is kwire's "ProduceRequest".
    static String name(ApiMessage m) {
        String s = m.getClass().getSimpleName();
        return s.endsWith("Data") ? s.substring(0, s.length() - 4) : s;
    }

    static byte[] encode(ApiMessage m, short version) {
        ObjectSerializationCache cache = new ObjectSerializationCache();
        int size = m.size(cache, version);
        ByteBuffer out = ByteBuffer.allocate(size);
        m.write(new ByteBufferAccessor(out), cache, version);
        if (out.hasRemaining())
            throw new IllegalStateException("size() said " + size + " bytes, write() left "
                                            + out.remaining() + " unwritten");
        return out.array();
    }

    static Method converter(ApiMessage m, String method, Class<?>... args) throws Exception {
        return Class.forName(m.getClass().getName() + "JsonConverter").getMethod(method, args);
    }

    // Records fields render as their size ("recordsSizeInBytes"), not as an empty placeholder.
    static JsonNode toJson(ApiMessage m, short version) throws Exception {
        return (JsonNode) converter(m, "write", m.getClass(), short.class, boolean.class)
            .invoke(null, m, version, false);
    }

    static ApiMessage fromJson(ApiMessage like, JsonNode node, short version) throws Exception {
        return (ApiMessage) converter(like, "read", JsonNode.class, short.class)
            .invoke(null, node, version);
    }

    static void list() {
        for (Supplier<ApiMessage> s : MESSAGES.values()) {
            ApiMessage m = s.get();
            OUT.println("msg " + name(m) + " " + m.lowestSupportedVersion() + " "
                        + m.highestSupportedVersion());
        }
        OUT.println("end");
    }

    // NAME.VERSION.SEED.SUFFIX
    static String[] parts(File f) {
        return f.getName().split("\\.", 4);
    }

    static String why(Throwable e) {
        while (e instanceof InvocationTargetException && e.getCause() != null)
            e = e.getCause();
        String msg = e.getMessage();
        return e.getClass().getSimpleName() + (msg == null ? "" : ": " + msg.replace('\n', ' '));
    }

    static File[] files(String dir, String suffix) {
        File[] all = new File(dir).listFiles((d, n) -> n.endsWith(suffix));
        if (all == null)
            all = new File[0];
        Arrays.sort(all);
        return all;
    }

    static void decode(String dir) {
        int ok = 0, failed = 0;
        for (File f : files(dir, ".bin")) {
            String[] p = parts(f);
            try {
                Supplier<ApiMessage> make = MESSAGES.get(p[0]);
                if (make == null)
                    throw new IllegalArgumentException("no message " + p[0]);
                short version = Short.parseShort(p[1]);
                byte[] in = Files.readAllBytes(f.toPath());
                ByteBuffer buf = ByteBuffer.wrap(in);
                ApiMessage m = make.get();
                m.read(new ByteBufferAccessor(buf), version);
                if (buf.hasRemaining())
                    throw new IllegalStateException("read " + buf.position() + " of " + in.length
                                                    + " bytes");
                byte[] again = encode(m, version);
                if (!Arrays.equals(in, again))
                    throw new IllegalStateException("re-encoded " + again.length + " bytes, read "
                                                    + in.length + "; first difference at byte "
                                                    + Arrays.mismatch(in, again));
                String base = f.getPath().substring(0, f.getPath().length() - 4);
                JSON.writeValue(new File(base + ".java.json"), toJson(m, version));
                ok++;
            } catch (Throwable e) {
                OUT.println("fail " + f.getName() + ": " + why(e));
                failed++;
            }
        }
        OUT.println("end " + ok + " " + failed);
    }

    static void encode(String dir) {
        int ok = 0, failed = 0;
        for (File f : files(dir, ".in.json")) {
            String[] p = parts(f);
            try {
                Supplier<ApiMessage> make = MESSAGES.get(p[0]);
                if (make == null)
                    throw new IllegalArgumentException("no message " + p[0]);
                short version = Short.parseShort(p[1]);
                ApiMessage m = fromJson(make.get(), JSON.readTree(f), version);
                byte[] bytes = encode(m, version);
                String base = f.getPath().substring(0, f.getPath().length() - 8);
                Files.write(new File(base + ".bin").toPath(), bytes);
                JSON.writeValue(new File(base + ".java.json"), toJson(m, version));
                ok++;
            } catch (Throwable e) {
                OUT.println("fail " + f.getName() + ": " + why(e));
                failed++;
            }
        }
        OUT.println("end " + ok + " " + failed);
    }

    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line; (line = in.readLine()) != null;) {
            String[] cmd = line.trim().split(" ", 2);
            switch (cmd[0]) {
                case "list": list(); break;
                case "decode": decode(cmd[1]); break;
                case "encode": encode(cmd[1]); break;
                case "": break;
                default: OUT.println("end unknown command " + cmd[0]);
            }
        }
    }
}
