// kwire-broker through Apache Kafka's Java clients 4.4 (kafka-clients 4.4.0):
//
//   java -cp 'tests/kafka/lib/*:DIR' InteropClient --bootstrap HOST:PORT --topic T
//        [--count N] [--partitions P] [--timeout S]
//
// 1. Admin: createTopics (P partitions), listTopics, describeTopics,
//    describeCluster, describeConfigs; on a second topic createPartitions
//    (1 -> 2), describeTopics, deleteTopics, listTopics.
// 2. Produce N messages (the messages of drivers/common.py: key, value,
//    headers) with idempotent producers (acks=all), one per codec: none, gzip,
//    snappy, lz4, zstd, each a fifth of the messages, in turn; every send must
//    succeed, and its (partition, offset) is remembered.
// 3. A group of two members, once with group.protocol=classic and once with
//    group.protocol=consumer (KIP-848: ConsumerGroupHeartbeat, the broker
//    assigns): A consumes alone, B joins
//    after A read a third of each partition, leaves after two thirds, A reads
//    the rest. A commits asynchronously after each poll, B synchronously; both commit
//    synchronously when partitions are revoked. Every message exactly once,
//    intact, in order per partition, where its send said; A's assignment
//    must go from all partitions to fewer and back to all, B must get some.
// 4. Admin: listOffsets (latest), listConsumerGroupOffsets (committed ==
//    end offset == messages, per partition), listConsumerGroups (of the
//    group's type), describeConsumerGroups (one member while A is in it),
//    then deleteConsumerGroups after A closed; after both protocols,
//    deleteTopics.
// Every wait is bounded. Last line: "java: N passed, M failed"; exit 1 on failure.
import java.time.Duration;
import java.util.*;
import java.util.concurrent.*;
import java.util.concurrent.atomic.*;
import java.nio.charset.StandardCharsets;

import org.apache.kafka.clients.admin.*;
import org.apache.kafka.clients.consumer.*;
import org.apache.kafka.clients.producer.*;
import org.apache.kafka.common.*;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.*;
import org.apache.kafka.common.utils.internals.AppInfoParser;

public class InteropClient {
    static final String[] CODECS = {"none", "gzip", "snappy", "lz4", "zstd"};
    static String bootstrap, topic, run;
    static int count = 10000, partitions = 3;
    static long timeoutMs = 45000;
    static int passed, failed;

    static void log(String s) { System.err.println(s); System.err.flush(); }

    static void check(boolean ok, String what) {
        if (ok) passed++; else failed++;
        log((ok ? "PASS " : "FAIL ") + what);
    }

    interface Step { void run() throws Exception; }

    static void step(String name, Step s) {
        try {
            s.run();
        } catch (Throwable e) {
            Throwable c = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
            check(false, name + ": " + c);
        }
    }

    static <V> V get(KafkaFuture<V> f) throws Exception { return f.get(30, TimeUnit.SECONDS); }

    // ---- the messages of drivers/common.py ----
    static byte[] key(int i) { return ("k" + i).getBytes(StandardCharsets.US_ASCII); }

    static byte[] value(int i) {
        if (i % 1000 == 999) return null;
        byte[] head = (run + ":" + i + ":").getBytes(StandardCharsets.US_ASCII);
        int n = i % 2500 == 1234 ? 65536 : (i * 37) % 301;
        byte[] v = Arrays.copyOf(head, head.length + n);
        int start = (i * 7) & 0xff;
        for (int j = 0; j < n; j++) v[head.length + j] = (byte) ((start + 13 * (j % 256)) & 0xff);
        return v;
    }

    static List<String> headerNames = List.of("idx", "bin", "empty");

    static byte[][] headerValues(int i) {
        return new byte[][] {("" + i).getBytes(StandardCharsets.US_ASCII),
            {(byte) (i & 0xff), 0, (byte) 0xff, (byte) ((i >> 8) & 0xff)}, {}};
    }

    // ---- what consumers saw ----
    static int[] seen;
    static long[][] where;        // first sighting: partition, offset
    static long[][] deliveredAt;  // from the producer's callback
    static int corrupt, unique;
    static final Map<Integer, List<long[]>> perPartition = new HashMap<>(); // offset, index
    static final List<String> reports = new ArrayList<>();

    static void report(String s) { if (reports.size() < 20) reports.add(s); }

    /* Forgets what the consumers of the previous round saw. */
    static synchronized void resetSeen() {
        seen = new int[count];
        where = new long[count][];
        corrupt = 0;
        unique = 0;
        perPartition.clear();
        reports.clear();
    }

    static synchronized void add(ConsumerRecord<byte[], byte[]> r) {
        String k = r.key() == null ? "" : new String(r.key(), StandardCharsets.US_ASCII);
        int i = -1;
        try { if (k.startsWith("k")) i = Integer.parseInt(k.substring(1)); } catch (NumberFormatException e) { i = -1; }
        if (i < 0 || i >= count || !Arrays.equals(r.key(), key(i))) {
            corrupt++; report("p" + r.partition() + "@" + r.offset() + ": unexpected key " + k); return;
        }
        if (!Arrays.equals(r.value(), value(i))) {
            corrupt++; report("p" + r.partition() + "@" + r.offset() + ": message " + i + ": value differs"); return;
        }
        Header[] hs = r.headers().toArray();
        byte[][] want = headerValues(i);
        boolean hok = hs.length == 3;
        for (int h = 0; hok && h < 3; h++)
            hok = hs[h].key().equals(headerNames.get(h)) && Arrays.equals(hs[h].value(), want[h]);
        if (!hok) { corrupt++; report("message " + i + ": headers differ"); return; }
        if (seen[i]++ == 0) { unique++; where[i] = new long[] {r.partition(), r.offset()}; }
        else report("message " + i + " again at p" + r.partition() + "@" + r.offset());
        perPartition.computeIfAbsent(r.partition(), p -> new ArrayList<>()).add(new long[] {r.offset(), i});
    }

    static synchronized int unique() { return unique; }

    /* Exactly once, intact, in order per partition, contiguous from 0, where the send said. */
    static synchronized Map<Integer, Long> verify() {
        int missing = 0, dup = 0, order = 0, misplaced = 0, gaps = 0;
        for (int i = 0; i < count; i++) {
            if (seen[i] == 0) missing++;
            if (seen[i] > 1) dup++;
            if (where[i] != null && deliveredAt[i] != null
                && (where[i][0] != deliveredAt[i][0] || where[i][1] != deliveredAt[i][1])) {
                misplaced++;
                report("message " + i + ": sent to p" + deliveredAt[i][0] + "@" + deliveredAt[i][1]
                       + ", found at p" + where[i][0] + "@" + where[i][1]);
            }
        }
        Map<Integer, Long> counts = new TreeMap<>();
        for (Map.Entry<Integer, List<long[]>> e : perPartition.entrySet()) {
            long lastOff = -1, lastI = -1;
            TreeSet<Long> offs = new TreeSet<>();
            for (long[] oi : e.getValue()) {
                if (oi[0] <= lastOff || oi[1] <= lastI) {
                    order++;
                    report("p" + e.getKey() + ": message " + oi[1] + " at " + oi[0] + " after " + lastI + " at " + lastOff);
                }
                lastOff = Math.max(lastOff, oi[0]);
                lastI = Math.max(lastI, oi[1]);
                offs.add(oi[0]);
            }
            if (!offs.isEmpty() && (offs.first() != 0 || offs.last() != offs.size() - 1)) gaps++;
            counts.put(e.getKey(), (long) offs.size());
        }
        log(String.format("consumed: %d messages, %d missing, %d duplicated, %d corrupt, %d out of order, "
                          + "%d misplaced, %d partitions with gaps; per partition %s",
                          count, missing, dup, corrupt, order, misplaced, gaps, counts));
        for (String r : reports) log("  " + r);
        check(missing == 0 && dup == 0 && corrupt == 0 && order == 0 && misplaced == 0 && gaps == 0,
              "every message exactly once, intact, in order, where its send said");
        return counts;
    }

    // ---- steps ----
    static void adminBefore(Admin admin) throws Exception {
        step("createTopics", () -> {
            get(admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1))).all());
            check(true, "createTopics " + topic + " (" + partitions + " partitions)");
        });
        step("listTopics", () -> check(get(admin.listTopics().names()).contains(topic), "listTopics lists " + topic));
        step("describeTopics", () -> {
            TopicDescription d = get(admin.describeTopics(List.of(topic)).allTopicNames()).get(topic);
            check(d.partitions().size() == partitions && d.partitions().get(0).leader() != null,
                  "describeTopics: " + d.partitions().size() + " partitions with a leader");
        });
        step("describeCluster", () -> {
            DescribeClusterResult c = admin.describeCluster();
            Collection<Node> nodes = get(c.nodes());
            Node controller = get(c.controller());
            String id = get(c.clusterId());
            check(nodes.size() == 1 && controller != null && id != null && !id.isEmpty(),
                  "describeCluster: " + nodes + ", controller " + controller + ", cluster id " + id);
        });
        step("describeConfigs", () -> {
            ConfigResource res = new ConfigResource(ConfigResource.Type.TOPIC, topic);
            Config cfg = get(admin.describeConfigs(List.of(res)).all()).get(res);
            check(cfg != null && !cfg.entries().isEmpty(), "describeConfigs of the topic: "
                  + (cfg == null ? 0 : cfg.entries().size()) + " entries");
        });
        String extra = topic + "-grow";
        step("createPartitions", () -> {
            get(admin.createTopics(List.of(new NewTopic(extra, 1, (short) 1))).all());
            get(admin.createPartitions(Map.of(extra, NewPartitions.increaseTo(2))).all());
            int n = get(admin.describeTopics(List.of(extra)).allTopicNames()).get(extra).partitions().size();
            check(n == 2, "createPartitions 1 -> 2: describeTopics shows " + n);
        });
        step("deleteTopics", () -> {
            get(admin.deleteTopics(List.of(extra)).all());
            long end = System.currentTimeMillis() + 10000;
            boolean gone = false;
            while (!gone && System.currentTimeMillis() < end) {
                gone = !get(admin.listTopics().names()).contains(extra);
                if (!gone) Thread.sleep(100);
            }
            check(gone, "deleteTopics: " + extra + " no longer listed");
        });
    }

    static void produce() throws Exception {
        int per = (count + CODECS.length - 1) / CODECS.length;
        AtomicInteger errors = new AtomicInteger();
        for (int c = 0; c < CODECS.length; c++) {
            Properties p = new Properties();
            p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            p.put(ProducerConfig.ACKS_CONFIG, "all");
            p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
            p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, CODECS[c]);
            p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
            p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, String.valueOf(timeoutMs));
            p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "15000");
            int first = c * per, last = Math.min(count, first + per);
            try (KafkaProducer<byte[], byte[]> pr = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
                for (int i = first; i < last; i++) {
                    ProducerRecord<byte[], byte[]> rec = new ProducerRecord<>(topic, key(i), value(i));
                    byte[][] hv = headerValues(i);
                    for (int h = 0; h < 3; h++) rec.headers().add(headerNames.get(h), hv[h]);
                    final int idx = i;
                    pr.send(rec, (md, e) -> {
                        if (e != null) {
                            if (errors.getAndIncrement() < 5) log("send of " + idx + " failed: " + e);
                        } else {
                            synchronized (InteropClient.class) { deliveredAt[idx] = new long[] {md.partition(), md.offset()}; }
                        }
                    });
                }
                pr.flush();
            }
            int ok = 0;
            synchronized (InteropClient.class) { for (int i = first; i < last; i++) if (deliveredAt[i] != null) ok++; }
            check(ok == last - first, "idempotent producer, " + CODECS[c] + ": " + ok + " of " + (last - first) + " acknowledged");
        }
    }

    static KafkaConsumer<byte[], byte[]> consumer(String group, String name, String protocol) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        p.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, protocol);
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, name);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "200");
        if (protocol.equals("classic")) { // the broker sets these for the consumer protocol
            p.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, "10000");
            p.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, "1000");
        }
        return new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    /* Remembers the assignments a member went through; commits what it read before giving partitions up. */
    static class Member implements ConsumerRebalanceListener {
        final String name;
        final KafkaConsumer<byte[], byte[]> c;
        final List<Integer> assignmentSizes = Collections.synchronizedList(new ArrayList<>());
        final AtomicInteger commitFailures = new AtomicInteger();
        volatile int records;

        Member(String group, String name, String protocol) { this.name = name; c = consumer(group, name, protocol); }

        public void onPartitionsRevoked(Collection<TopicPartition> parts) {
            if (parts.isEmpty()) return;
            try { c.commitSync(Duration.ofSeconds(15)); }
            catch (Exception e) { commitFailures.incrementAndGet(); log(name + ": commit on revocation failed: " + e); }
        }

        /* the whole assignment after a change (the consumer protocol's callbacks name only what changed) */
        public void onPartitionsAssigned(Collection<TopicPartition> parts) {
            int n = c.assignment().size();
            if (n > 0 && (assignmentSizes.isEmpty() || assignmentSizes.get(assignmentSizes.size() - 1) != n))
                assignmentSizes.add(n);
            if (!parts.isEmpty()) log(name + ": assigned " + parts + ", now " + c.assignment());
        }

        void poll(boolean async) {
            ConsumerRecords<byte[], byte[]> rs = c.poll(Duration.ofMillis(200));
            onPartitionsAssigned(List.of()); // a revocation alone calls no assigned callback
            for (ConsumerRecord<byte[], byte[]> r : rs) add(r);
            records += rs.count();
            if (rs.isEmpty()) return;
            if (async) {
                c.commitAsync((offs, e) -> {
                    if (e != null) { commitFailures.incrementAndGet(); log(name + ": async commit failed: " + e); }
                });
            } else {
                try { c.commitSync(Duration.ofSeconds(15)); }
                catch (Exception e) { commitFailures.incrementAndGet(); log(name + ": commit failed: " + e); }
            }
        }
    }

    static void consumeAndAdmin(Admin admin, String protocol) throws Exception {
        String group = run + "-" + protocol + "-grp";
        String tag = " (" + protocol + ")";
        resetSeen();
        log("---- group.protocol=" + protocol + ", group " + group);
        long deadline = System.currentTimeMillis() + 3 * timeoutMs;
        Member a = new Member(group, "member-a", protocol);
        a.c.subscribe(List.of(topic), a);
        AtomicBoolean bLeave = new AtomicBoolean();
        AtomicReference<Member> bRef = new AtomicReference<>(); // set by B's thread
        Thread bThread = null;
        // A reads about a third of every partition (each paused at its share), so
        // that whichever partitions B gets still hold messages to read
        int share = count / (3 * partitions);
        while (System.currentTimeMillis() < deadline) {
            List<TopicPartition> full = new ArrayList<>();
            synchronized (InteropClient.class) {
                for (int p = 0; p < partitions; p++)
                    if (perPartition.getOrDefault(p, List.of()).size() >= share) full.add(new TopicPartition(topic, p));
            }
            if (full.size() == partitions) break;
            a.c.pause(full);
            a.poll(true);
        }
        log("member-a alone: " + unique() + " messages; member-b joins");
        bThread = new Thread(() -> {
            Member b = new Member(group, "member-b", protocol);
            bRef.set(b);
            b.c.subscribe(List.of(topic), b);
            long bEnd = deadline;
            while (!bLeave.get() && System.currentTimeMillis() < bEnd) b.poll(false);
            try { b.c.commitSync(Duration.ofSeconds(15)); }
            catch (Exception e) { b.commitFailures.incrementAndGet(); log("member-b: final commit failed: " + e); }
            b.c.close(Duration.ofSeconds(15)); // LeaveGroup
            log("member-b left after " + b.records + " records");
        });
        bThread.start();
        // A reads nothing more until B has partitions (its polls still take part in the rebalance)
        while ((bRef.get() == null || bRef.get().assignmentSizes.isEmpty()) && System.currentTimeMillis() < deadline) {
            a.c.pause(a.c.assignment());
            a.poll(true);
        }
        a.c.resume(a.c.assignment());
        // both read until two thirds, and until B has read something
        while ((unique() < 2 * count / 3 || bRef.get() == null || bRef.get().records == 0)
               && unique() < count && System.currentTimeMillis() < deadline)
            a.poll(true);
        bLeave.set(true);
        while (bThread.isAlive() && System.currentTimeMillis() < deadline) a.poll(true);
        bThread.join(Math.max(1, deadline - System.currentTimeMillis()));
        while (unique() < count && System.currentTimeMillis() < deadline) a.poll(true);
        // A gets B's partitions back (with the consumer protocol at its next heartbeat, which
        // may be the broker's heartbeat interval away)
        while (a.c.assignment().size() < partitions && System.currentTimeMillis() < deadline) a.poll(true);
        // a little longer, so that duplicates would show
        long tail = System.currentTimeMillis() + 1500;
        while (System.currentTimeMillis() < tail) a.poll(true);
        step("commitSync" + tag, () -> { a.c.commitSync(Duration.ofSeconds(15)); check(true, "member-a: commitSync" + tag); });
        Member b = bRef.get();
        log("member-a assignments " + a.assignmentSizes + ", " + a.records + " records; member-b assignments "
            + (b == null ? "none" : b.assignmentSizes + ", " + b.records + " records"));
        List<Integer> as = a.assignmentSizes;
        int shrunk = -1;
        for (int k = 1; k < as.size() && shrunk < 0; k++) if (as.get(k) < partitions) shrunk = k;
        boolean back = shrunk > 0 && as.subList(shrunk, as.size()).contains(partitions);
        check(!as.isEmpty() && as.get(0) == partitions && back,
              "rebalance" + tag + ": member-a's assignments " + as + " go from all partitions to fewer and back");
        check(b != null && !b.assignmentSizes.isEmpty() && b.assignmentSizes.get(0) > 0 && b.records > 0,
              "rebalance" + tag + ": member-b got partitions and read from them");
        check(a.commitFailures.get() == 0 && (b == null || b.commitFailures.get() == 0),
              "every commit (async, sync, on revocation) succeeded" + tag);
        Map<Integer, Long> counts = verify();

        step("listOffsets/listConsumerGroupOffsets", () -> {
            Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
            for (int p = 0; p < partitions; p++) latest.put(new TopicPartition(topic, p), OffsetSpec.latest());
            Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> ends = get(admin.listOffsets(latest).all());
            Map<TopicPartition, OffsetAndMetadata> committed =
                get(admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata());
            boolean ok = true;
            for (int p = 0; p < partitions; p++) {
                TopicPartition tp = new TopicPartition(topic, p);
                OffsetAndMetadata c = committed.get(tp);
                long e = ends.get(tp).offset();
                long n = counts.getOrDefault(p, 0L);
                boolean pok = c != null && c.offset() == e && e == n;
                log("offsets: partition " + p + " committed " + (c == null ? null : c.offset()) + ", end offset " + e
                    + ", messages " + n + (pok ? "" : "  MISMATCH"));
                ok &= pok;
            }
            check(ok, "listConsumerGroupOffsets == listOffsets(latest) == messages, every partition" + tag);
        });
        step("listGroups" + tag, () -> {
            GroupType want = protocol.equals("consumer") ? GroupType.CONSUMER : GroupType.CLASSIC;
            boolean listed = false;
            for (GroupListing g : get(admin.listGroups(ListGroupsOptions.forConsumerGroups()).all()))
                listed |= g.groupId().equals(group) && g.type().orElse(null) == want;
            check(listed, "listGroups lists " + group + " as a " + want + " group");
        });
        step("describeConsumerGroups", () -> {
            ConsumerGroupDescription d = get(admin.describeConsumerGroups(List.of(group)).all()).get(group);
            int assigned = 0;
            for (MemberDescription m : d.members()) assigned += m.assignment().topicPartitions().size();
            GroupType want = protocol.equals("consumer") ? GroupType.CONSUMER : GroupType.CLASSIC;
            check(d.members().size() == 1 && assigned == partitions && d.groupState() == GroupState.STABLE
                  && d.type() == want,
                  "describeConsumerGroups" + tag + ": " + d.members().size() + " member, " + assigned + " partitions, "
                  + d.groupState() + ", " + d.type());
        });
        a.c.close(Duration.ofSeconds(15));
        step("deleteConsumerGroups" + tag, () -> {
            get(admin.deleteConsumerGroups(List.of(group)).all());
            boolean listed = false;
            for (GroupListing g : get(admin.listGroups().all())) listed |= g.groupId().equals(group);
            check(!listed, "deleteConsumerGroups" + tag + ": " + group + " no longer listed");
        });
    }

    public static void main(String[] args) throws Exception {
        for (int k = 0; k + 1 < args.length; k += 2) {
            switch (args[k]) {
                case "--bootstrap": bootstrap = args[k + 1]; break;
                case "--topic": topic = args[k + 1]; break;
                case "--count": count = Integer.parseInt(args[k + 1]); break;
                case "--partitions": partitions = Integer.parseInt(args[k + 1]); break;
                case "--timeout": timeoutMs = (long) (Double.parseDouble(args[k + 1]) * 1000); break;
                default: log("unknown option " + args[k]); System.exit(2);
            }
        }
        if (bootstrap == null || topic == null) { log("needs --bootstrap and --topic"); System.exit(2); }
        run = "java-" + ProcessHandle.current().pid() + "-" + System.currentTimeMillis() / 1000;
        resetSeen();
        deliveredAt = new long[count][];
        log("java: kafka-clients " + AppInfoParser.getVersion());
        Properties ap = new Properties();
        ap.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        ap.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "30000");
        try (Admin admin = Admin.create(ap)) {
            adminBefore(admin);
            step("produce", InteropClient::produce);
            for (String protocol : new String[] {"classic", "consumer"})
                step("consume (" + protocol + ")", () -> consumeAndAdmin(admin, protocol));
            step("deleteTopics (the round-trip topic)", () -> {
                get(admin.deleteTopics(List.of(topic)).all());
                check(true, "deleteTopics " + topic);
            });
        }
        System.out.println("java: " + passed + " passed, " + failed + " failed");
        System.out.flush();
        System.exit(failed == 0 && passed > 0 ? 0 : 1);
    }
}
