// The Java peer of kwire's decode cases: Kafka's generated message classes
// (org.apache.kafka.common.message.*Data read through a ByteBufferAccessor)
// decode each frame that kwire-bench --export-frames wrote, size prefix and
// header included, and walk what kwire's walk visits. Records fields are
// MemoryRecords: every batch is checked with ensureValid() (CRC-32C) and
// every record and header iterated. One JSON line per frame: counts
// (--mode count) or ns per frame and bytes per second (--mode bench).
package kwire.peers;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.message.OffsetCommitRequestData;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.RequestHeaderData;
import org.apache.kafka.common.message.ResponseHeaderData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.record.internal.BaseRecords;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.apache.kafka.common.record.internal.Record;

public final class Peer {
    record Frame(String name, short apiKey, short version, boolean response, byte[] bytes) {}

    static final class Walk {
        final Map<String, Long> counts = new TreeMap<>();
        long sum;

        void add(String key) {
            counts.merge(key, 1L, Long::sum);
        }
    }

    static void records(BaseRecords base, Walk w) {
        if (base == null)
            return;
        if (!(base instanceof MemoryRecords records))
            throw new IllegalStateException("records are not MemoryRecords");
        for (MutableRecordBatch batch : records.batches()) {
            batch.ensureValid(); // CRC-32C and sizes
            w.add("batches");
            for (Record r : batch) {
                w.add("records");
                w.sum += r.keySize() + r.valueSize();
                for (Header h : r.headers()) {
                    w.add("headers");
                    w.sum += h.key().length() + (h.value() == null ? 0 : h.value().length);
                }
            }
        }
    }

    static Walk decode(Frame f) {
        ByteBuffer buf = ByteBuffer.wrap(f.bytes);
        if (buf.remaining() < 4 || buf.getInt() != buf.remaining())
            throw new IllegalStateException("size prefix");
        ByteBufferAccessor in = new ByteBufferAccessor(buf);
        ApiKeys api = ApiKeys.forId(f.apiKey);
        Walk w = new Walk();
        if (!f.response) {
            RequestHeaderData h = new RequestHeaderData(in, api.requestHeaderVersion(f.version));
            if (h.requestApiKey() != f.apiKey || h.requestApiVersion() != f.version)
                throw new IllegalStateException("header key or version");
        } else {
            new ResponseHeaderData(in, api.responseHeaderVersion(f.version));
        }
        switch (api) {
            case PRODUCE -> {
                ProduceRequestData m = new ProduceRequestData(in, f.version);
                for (ProduceRequestData.TopicProduceData t : m.topicData()) {
                    w.add("topics");
                    w.sum += t.name().length();
                    for (ProduceRequestData.PartitionProduceData p : t.partitionData()) {
                        w.add("partitions");
                        w.sum += p.index();
                        records(p.records(), w);
                    }
                }
            }
            case FETCH -> {
                if (!f.response) {
                    FetchRequestData m = new FetchRequestData(in, f.version);
                    for (FetchRequestData.FetchTopic t : m.topics()) {
                        w.add("topics");
                        w.sum += t.topic().length() + t.topicId().getMostSignificantBits();
                        for (FetchRequestData.FetchPartition p : t.partitions()) {
                            w.add("partitions");
                            w.sum += p.fetchOffset() + p.partitionMaxBytes();
                        }
                    }
                    for (FetchRequestData.ForgottenTopic t : m.forgottenTopicsData())
                        w.sum += t.topic().length();
                } else {
                    FetchResponseData m = new FetchResponseData(in, f.version);
                    w.counts.put("batches", 0L);
                    w.counts.put("records", 0L);
                    w.counts.put("headers", 0L);
                    for (FetchResponseData.FetchableTopicResponse t : m.responses()) {
                        w.add("topics");
                        w.sum += t.topic().length();
                        for (FetchResponseData.PartitionData p : t.partitions()) {
                            w.add("partitions");
                            w.sum += p.highWatermark();
                            if (p.abortedTransactions() != null)
                                for (FetchResponseData.AbortedTransaction a : p.abortedTransactions())
                                    w.sum += a.firstOffset();
                            records(p.records(), w);
                        }
                    }
                }
            }
            case OFFSET_COMMIT -> {
                OffsetCommitRequestData m = new OffsetCommitRequestData(in, f.version);
                w.sum += m.groupId().length() + m.memberId().length() + m.generationIdOrMemberEpoch();
                for (OffsetCommitRequestData.OffsetCommitRequestTopic t : m.topics()) {
                    w.add("topics");
                    w.sum += t.name().length();
                    for (OffsetCommitRequestData.OffsetCommitRequestPartition p : t.partitions()) {
                        w.add("partitions");
                        w.sum += p.partitionIndex() + p.committedOffset() + p.committedLeaderEpoch()
                                + (p.committedMetadata() == null ? 0 : p.committedMetadata().length());
                    }
                }
            }
            case METADATA -> {
                MetadataResponseData m = new MetadataResponseData(in, f.version);
                for (MetadataResponseData.MetadataResponseBroker b : m.brokers())
                    w.sum += b.host().length() + b.port();
                for (MetadataResponseData.MetadataResponseTopic t : m.topics()) {
                    w.add("topics");
                    w.sum += t.name() == null ? 0 : t.name().length();
                    for (MetadataResponseData.MetadataResponsePartition p : t.partitions()) {
                        w.add("partitions");
                        w.sum += p.leaderId();
                        for (int n : p.replicaNodes())
                            w.sum += n;
                        for (int n : p.isrNodes())
                            w.sum += n;
                        for (int n : p.offlineReplicas())
                            w.sum += n;
                    }
                }
            }
            case API_VERSIONS -> {
                ApiVersionsResponseData m = new ApiVersionsResponseData(in, f.version);
                for (ApiVersionsResponseData.ApiVersion k : m.apiKeys()) {
                    w.add("api_keys");
                    w.sum += k.apiKey() + k.maxVersion();
                }
                for (ApiVersionsResponseData.SupportedFeatureKey s : m.supportedFeatures())
                    w.sum += s.name().length();
                for (ApiVersionsResponseData.FinalizedFeatureKey s : m.finalizedFeatures())
                    w.sum += s.name().length();
            }
            default -> throw new IllegalStateException("no walk for " + api);
        }
        if (buf.hasRemaining())
            throw new IllegalStateException("bytes after the body");
        return w;
    }

    static String field(String line, String key) {
        Matcher m = Pattern.compile("\"" + key + "\": (\"([^\"]*)\"|[^,}]+)").matcher(line);
        if (!m.find())
            throw new IllegalArgumentException(key + " not in " + line);
        return m.group(2) != null ? m.group(2) : m.group(1).trim();
    }

    static String json(Map<String, Long> counts) {
        StringBuilder s = new StringBuilder("{");
        for (Map.Entry<String, Long> e : counts.entrySet())
            s.append(s.length() > 1 ? ", " : "").append('"').append(e.getKey()).append("\": ").append(e.getValue());
        return s.append('}').toString();
    }

    public static void main(String[] args) throws Exception {
        String dir = ".", mode = "bench";
        double seconds = 0.5, warmup = 1.0;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--dir" -> dir = args[i + 1];
                case "--mode" -> mode = args[i + 1];
                case "--seconds" -> seconds = Double.parseDouble(args[i + 1]);
                case "--warmup" -> warmup = Double.parseDouble(args[i + 1]);
                default -> throw new IllegalArgumentException(args[i]);
            }
        }
        List<Frame> frames = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of(dir, "frames.jsonl"))) {
            frames.add(new Frame(field(line, "name"), Short.parseShort(field(line, "api_key")),
                    Short.parseShort(field(line, "version")), Boolean.parseBoolean(field(line, "response")),
                    Files.readAllBytes(Path.of(dir, field(line, "file")))));
        }
        boolean failed = false;
        for (Frame f : frames) {
            Walk w;
            try {
                w = decode(f);
            } catch (RuntimeException e) {
                System.err.println("kwire-peer-java: " + f.name() + ": " + e);
                failed = true;
                continue;
            }
            StringBuilder out = new StringBuilder("{\"peer\": \"kafka-clients\", \"frame\": \"" + f.name()
                    + "\", \"counts\": " + json(w.counts));
            long sum = w.sum;
            if (mode.equals("bench")) {
                // Warm-up first, so the JIT has compiled the decode before the timed loop.
                for (int pass = 0; pass < 2; pass++) {
                    double budget = pass == 0 ? warmup : seconds;
                    long start = System.nanoTime(), n = 0;
                    while (n == 0 || System.nanoTime() - start < budget * 1e9) {
                        for (int k = 0; k < 16; k++)
                            sum += decode(f).sum;
                        n += 16;
                    }
                    double ns = (double) (System.nanoTime() - start) / n;
                    if (pass == 1)
                        out.append(", \"iters\": ").append(n).append(", \"ns_per_frame\": ").append(ns)
                                .append(", \"bytes_per_s\": ").append(f.bytes().length / ns * 1e9);
                }
            }
            out.append(", \"checksum\": ").append(sum).append('}');
            System.out.println(out);
        }
        if (failed)
            System.exit(1);
    }
}
