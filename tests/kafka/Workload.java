// What one Apache Kafka 4.4 node serves, through the Java clients (kafka-clients
// 4.4.0): producers (idempotent, transactional commit and abort, every codec,
// record headers), a classic, a KIP-848 and a share group consuming and
// committing, and the admin calls. Every step is bounded; the last line is
// "workload: N passed, M failed".
//
//   java -cp 'tests/kafka/lib/*:DIR' Workload BOOTSTRAP
import java.time.Duration;
import java.util.*;
import java.util.concurrent.*;
import java.nio.charset.StandardCharsets;

import org.apache.kafka.clients.admin.*;
import org.apache.kafka.clients.consumer.*;
import org.apache.kafka.clients.producer.*;
import org.apache.kafka.common.*;
import org.apache.kafka.common.acl.*;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.quota.*;
import org.apache.kafka.common.resource.*;
import org.apache.kafka.common.serialization.*;

public class Workload {
    static final long T = 30; // seconds, for each admin future
    static final String[] CODECS = {"none", "gzip", "snappy", "lz4", "zstd"};
    static final int PER_CODEC = 10;
    static String bootstrap;
    static int passed, failed;
    static Admin admin;

    interface Step { void run() throws Exception; }

    static void step(String name, Step s) {
        long t0 = System.nanoTime();
        try {
            s.run();
            passed++;
            System.out.printf("ok   %-34s %5d ms%n", name, (System.nanoTime() - t0) / 1000000);
        } catch (Throwable e) {
            failed++;
            Throwable c = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
            System.out.printf("FAIL %-34s %s%n", name, c);
        }
        System.out.flush();
    }

    static void check(boolean ok, String what) {
        if (!ok) throw new AssertionError(what);
    }

    static <V> V get(KafkaFuture<V> f) throws Exception {
        return f.get(T, TimeUnit.SECONDS);
    }

    /* Metadata reaches the broker's caches a moment after the controller commits it. */
    static void eventually(String what, Step s) throws Exception {
        long end = System.currentTimeMillis() + 15000;
        while (true) {
            try {
                s.run();
                return;
            } catch (AssertionError e) {
                if (System.currentTimeMillis() > end) throw e;
                Thread.sleep(200);
            }
        }
    }

    static Properties common(String clientId) {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("client.id", clientId);
        p.put("request.timeout.ms", "20000");
        p.put("default.api.timeout.ms", "30000");
        return p;
    }

    static Properties producerProps(String clientId, String codec) {
        Properties p = common(clientId);
        p.put("key.serializer", StringSerializer.class.getName());
        p.put("value.serializer", StringSerializer.class.getName());
        p.put("compression.type", codec);
        p.put("acks", "all");
        p.put("enable.idempotence", "true");
        p.put("linger.ms", "5");
        p.put("delivery.timeout.ms", "30000");
        p.put("max.block.ms", "30000");
        return p;
    }

    static ProducerRecord<String, String> record(String topic, String kind, String codec, int i) {
        ProducerRecord<String, String> r =
            new ProducerRecord<>(topic, null, "k" + i, kind + ":" + codec + ":" + i);
        r.headers().add("codec", codec.getBytes(StandardCharsets.UTF_8));
        r.headers().add("idx", Integer.toString(i).getBytes(StandardCharsets.UTF_8));
        return r;
    }

    static String header(ConsumerRecord<String, String> r, String key) {
        Header h = r.headers().lastHeader(key);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    /* Each expected value exactly once, key and headers matching the value. */
    static void checkRecords(List<ConsumerRecord<String, String>> got, Set<String> expected) {
        Map<String, Integer> seen = new HashMap<>();
        for (ConsumerRecord<String, String> r : got) {
            String v = r.value();
            seen.merge(v, 1, Integer::sum);
            String[] part = v.split(":");
            check(part.length == 3, "value " + v);
            check(("k" + part[2]).equals(r.key()), "key of " + v + " is " + r.key());
            check(part[1].equals(header(r, "codec")), "codec header of " + v);
            check(part[2].equals(header(r, "idx")), "idx header of " + v);
            check(expected.contains(v), "unexpected record " + v);
        }
        for (String v : expected)
            check(seen.getOrDefault(v, 0) == 1, v + " arrived " + seen.getOrDefault(v, 0) + " times");
        check(got.size() == expected.size(), got.size() + " records, expected " + expected.size());
    }

    static Set<String> values(String kind) {
        Set<String> s = new HashSet<>();
        for (String c : CODECS)
            for (int i = 0; i < PER_CODEC; i++) s.add(kind + ":" + c + ":" + i);
        return s;
    }

    static List<ConsumerRecord<String, String>> consume(Properties p, String topic, int want) {
        p.put("key.deserializer", StringDeserializer.class.getName());
        p.put("value.deserializer", StringDeserializer.class.getName());
        p.put("auto.offset.reset", "earliest");
        p.put("enable.auto.commit", "false");
        List<ConsumerRecord<String, String>> got = new ArrayList<>();
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(p)) {
            c.subscribe(List.of(topic));
            long end = System.currentTimeMillis() + 40000;
            while (got.size() < want && System.currentTimeMillis() < end) {
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(500))) got.add(r);
                c.commitSync(Duration.ofSeconds(10));
            }
            // One more poll: anything past the expected count would show up here.
            for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(500))) got.add(r);
            c.commitSync(Duration.ofSeconds(10));
            c.close(CloseOptions.timeout(Duration.ofSeconds(10)));
        }
        return got;
    }

    public static void main(String[] args) throws Exception {
        bootstrap = args[0];
        Thread watchdog = new Thread(() -> {
            try {
                Thread.sleep(170000);
            } catch (InterruptedException e) {
                return;
            }
            System.out.printf("workload: %d passed, %d failed (timed out)%n", passed, failed + 1);
            System.out.flush();
            Runtime.getRuntime().halt(1);
        });
        watchdog.setDaemon(true);
        watchdog.start();

        admin = Admin.create(common("wl-admin"));
        final long t0 = System.currentTimeMillis();

        step("create topics", () -> {
            get(admin.createTopics(List.of(
                new NewTopic("wl-idem", 1, (short) 1),
                new NewTopic("wl-tx", 1, (short) 1),
                new NewTopic("wl-admin", 1, (short) 1))).all());
            eventually("topics listed", () -> {
                try {
                    check(get(admin.listTopics().names()).containsAll(List.of("wl-idem", "wl-tx", "wl-admin")), "topics");
                } catch (Exception e) { throw new AssertionError(e); }
            });
        });

        for (String codec : CODECS) {
            step("idempotent producer " + codec, () -> {
                try (KafkaProducer<String, String> p = new KafkaProducer<>(producerProps("wl-idem-" + codec, codec))) {
                    List<Future<RecordMetadata>> fs = new ArrayList<>();
                    for (int i = 0; i < PER_CODEC; i++) fs.add(p.send(record("wl-idem", "idem", codec, i)));
                    for (Future<RecordMetadata> f : fs) f.get(T, TimeUnit.SECONDS);
                }
            });
        }

        for (String codec : CODECS) {
            step("transactional producer " + codec, () -> {
                Properties pp = producerProps("wl-tx-" + codec, codec);
                pp.put("transactional.id", "wl-tx-" + codec);
                pp.put("transaction.timeout.ms", "30000");
                try (KafkaProducer<String, String> p = new KafkaProducer<>(pp)) {
                    p.initTransactions();
                    p.beginTransaction();
                    for (int i = 0; i < PER_CODEC; i++) p.send(record("wl-tx", "commit", codec, i));
                    if (codec.equals("none")) {
                        // TxnOffsetCommit and AddOffsetsToTxn, through a group of its own.
                        p.sendOffsetsToTransaction(
                            Map.of(new TopicPartition("wl-idem", 0), new OffsetAndMetadata(1, "tx")),
                            new ConsumerGroupMetadata("wl-txgroup"));
                    }
                    p.commitTransaction();
                    p.beginTransaction();
                    for (int i = 0; i < PER_CODEC; i++) p.send(record("wl-tx", "abort", codec, i));
                    p.flush();
                    p.abortTransaction();
                }
            });
        }

        step("classic group consumes wl-idem", () -> {
            Properties p = common("wl-classic");
            p.put("group.id", "wl-classic");
            p.put("group.protocol", "classic");
            p.put("session.timeout.ms", "10000");
            p.put("heartbeat.interval.ms", "1000");
            checkRecords(consume(p, "wl-idem", PER_CODEC * CODECS.length), values("idem"));
        });

        step("consumer group (KIP-848) reads committed wl-tx", () -> {
            Properties p = common("wl-848");
            p.put("group.id", "wl-848");
            p.put("group.protocol", "consumer");
            p.put("isolation.level", "read_committed");
            checkRecords(consume(p, "wl-tx", PER_CODEC * CODECS.length), values("commit"));
        });

        step("share group consumes wl-idem", () -> {
            get(admin.incrementalAlterConfigs(Map.of(
                new ConfigResource(ConfigResource.Type.GROUP, "wl-share"),
                List.of(new AlterConfigOp(new ConfigEntry("share.auto.offset.reset", "earliest"),
                                          AlterConfigOp.OpType.SET)))).all());
            Properties p = common("wl-share");
            p.put("group.id", "wl-share");
            p.put("key.deserializer", StringDeserializer.class.getName());
            p.put("value.deserializer", StringDeserializer.class.getName());
            List<ConsumerRecord<String, String>> got = new ArrayList<>();
            int want = PER_CODEC * CODECS.length;
            try (KafkaShareConsumer<String, String> c = new KafkaShareConsumer<>(p)) {
                c.subscribe(List.of("wl-idem"));
                long end = System.currentTimeMillis() + 40000;
                while (got.size() < want && System.currentTimeMillis() < end) {
                    for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(500))) got.add(r);
                    c.commitSync(Duration.ofSeconds(10));
                }
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(500))) got.add(r);
                c.commitSync(Duration.ofSeconds(10));
                c.close(Duration.ofSeconds(10));
            }
            checkRecords(got, values("idem"));
        });

        step("produce wl-admin (acks=1, not idempotent)", () -> {
            Properties pp = producerProps("wl-plain", "none");
            pp.put("enable.idempotence", "false");
            pp.put("acks", "1");
            try (KafkaProducer<String, String> p = new KafkaProducer<>(pp)) {
                for (int i = 0; i < 10; i++) p.send(record("wl-admin", "plain", "none", i)).get(T, TimeUnit.SECONDS);
            }
        });

        TopicPartition idem0 = new TopicPartition("wl-idem", 0);
        TopicPartition admin0 = new TopicPartition("wl-admin", 0);

        step("list offsets (timestamp, earliest, latest, max)", () -> {
            Map<TopicPartition, OffsetSpec> q = Map.of(idem0, OffsetSpec.forTimestamp(t0));
            check(get(admin.listOffsets(q).partitionResult(idem0)).offset() == 0, "offset for t0");
            check(get(admin.listOffsets(Map.of(idem0, OffsetSpec.latest())).partitionResult(idem0)).offset()
                  == PER_CODEC * CODECS.length, "latest");
            check(get(admin.listOffsets(Map.of(idem0, OffsetSpec.earliest())).partitionResult(idem0)).offset() == 0,
                  "earliest");
            get(admin.listOffsets(Map.of(idem0, OffsetSpec.maxTimestamp())).partitionResult(idem0));
        });

        step("delete records", () -> {
            DeletedRecords d = get(admin.deleteRecords(Map.of(admin0, RecordsToDelete.beforeOffset(5)))
                                   .lowWatermarks().get(admin0));
            check(d.lowWatermark() == 5, "low watermark " + d.lowWatermark());
        });

        step("create partitions", () -> {
            get(admin.createPartitions(Map.of("wl-admin", NewPartitions.increaseTo(2))).all());
            eventually("2 partitions", () -> {
                try {
                    TopicDescription t = get(admin.describeTopics(List.of("wl-admin")).allTopicNames()).get("wl-admin");
                    check(t.partitions().size() == 2, t.partitions().size() + " partitions");
                } catch (Exception e) { throw new AssertionError(e); }
            });
        });

        ConfigResource topicRes = new ConfigResource(ConfigResource.Type.TOPIC, "wl-admin");
        step("describe configs (topic, broker)", () -> {
            Map<ConfigResource, Config> m = get(admin.describeConfigs(List.of(
                topicRes, new ConfigResource(ConfigResource.Type.BROKER, "1"))).all());
            check(m.get(topicRes).get("cleanup.policy") != null, "cleanup.policy");
        });

        step("incremental alter configs", () -> {
            get(admin.incrementalAlterConfigs(Map.of(topicRes, List.of(
                new AlterConfigOp(new ConfigEntry("retention.ms", "3600000"), AlterConfigOp.OpType.SET)))).all());
            eventually("retention.ms", () -> {
                try {
                    Config c = get(admin.describeConfigs(List.of(topicRes)).all()).get(topicRes);
                    check("3600000".equals(c.get("retention.ms").value()), "retention.ms " + c.get("retention.ms").value());
                } catch (Exception e) { throw new AssertionError(e); }
            });
        });

        step("list groups", () -> {
            Set<String> ids = new HashSet<>();
            for (GroupListing g : get(admin.listGroups().all())) ids.add(g.groupId());
            check(ids.containsAll(List.of("wl-classic", "wl-848", "wl-share")), "groups " + ids);
        });

        step("describe groups", () -> {
            Map<String, ConsumerGroupDescription> m =
                get(admin.describeConsumerGroups(List.of("wl-classic", "wl-848")).all());
            check(m.size() == 2, "described " + m.keySet());
            get(admin.describeClassicGroups(List.of("wl-classic")).all());
            get(admin.describeShareGroups(List.of("wl-share")).all());
        });

        step("group offsets (list, share, delete)", () -> {
            Map<TopicPartition, OffsetAndMetadata> o =
                get(admin.listConsumerGroupOffsets("wl-classic").partitionsToOffsetAndMetadata());
            check(o.get(idem0) != null && o.get(idem0).offset() == PER_CODEC * CODECS.length, "committed " + o);
            get(admin.listShareGroupOffsets(Map.of("wl-share", new ListShareGroupOffsetsSpec())).all());
            get(admin.deleteConsumerGroupOffsets("wl-classic", Set.of(idem0)).all());
        });

        step("delete groups", () -> {
            get(admin.deleteConsumerGroups(List.of("wl-classic", "wl-848", "wl-txgroup")).all());
            get(admin.deleteShareGroups(List.of("wl-share")).all());
        });

        step("describe cluster", () -> {
            DescribeClusterResult r = admin.describeCluster();
            check(get(r.nodes()).size() == 1, "one node");
            get(r.clusterId());
            get(r.controller());
        });

        step("describe log dirs", () -> {
            check(!get(admin.describeLogDirs(List.of(1)).allDescriptions()).get(1).isEmpty(), "log dirs");
        });

        step("describe features", () -> {
            FeatureMetadata f = get(admin.describeFeatures().featureMetadata());
            check(f.finalizedFeatures().containsKey("metadata.version"), "metadata.version");
        });

        step("describe metadata quorum", () -> get(admin.describeMetadataQuorum().quorumInfo()));

        step("list partition reassignments", () -> get(admin.listPartitionReassignments().reassignments()));

        ResourcePattern aclTopic = new ResourcePattern(ResourceType.TOPIC, "wl-acl", PatternType.LITERAL);
        AclBinding acl = new AclBinding(aclTopic,
            new AccessControlEntry("User:alice", "*", AclOperation.READ, AclPermissionType.ALLOW));
        step("create, describe, delete ACLs", () -> {
            get(admin.createAcls(List.of(acl)).all());
            eventually("acl described", () -> {
                try {
                    check(get(admin.describeAcls(acl.toFilter()).values()).size() == 1, "acl not described");
                } catch (Exception e) { throw new AssertionError(e); }
            });
            Collection<AclBinding> gone = get(admin.deleteAcls(List.of(acl.toFilter())).all());
            check(gone.size() == 1, "deleted " + gone.size());
        });

        ClientQuotaEntity alice = new ClientQuotaEntity(Map.of(ClientQuotaEntity.USER, "alice"));
        step("alter, describe client quotas", () -> {
            get(admin.alterClientQuotas(List.of(new ClientQuotaAlteration(alice,
                List.of(new ClientQuotaAlteration.Op("producer_byte_rate", 1048576.0))))).all());
            eventually("quota described", () -> {
                try {
                    Map<ClientQuotaEntity, Map<String, Double>> m = get(admin.describeClientQuotas(
                        ClientQuotaFilter.containsOnly(List.of(
                            ClientQuotaFilterComponent.ofEntity(ClientQuotaEntity.USER, "alice")))).entities());
                    check(m.containsKey(alice) && m.get(alice).get("producer_byte_rate") == 1048576.0, "quota " + m);
                } catch (Exception e) { throw new AssertionError(e); }
            });
        });

        step("alter, describe SCRAM credentials", () -> {
            get(admin.alterUserScramCredentials(List.of(new UserScramCredentialUpsertion("alice",
                new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_256, 4096), "alice-secret"))).all());
            eventually("scram described", () -> {
                try {
                    UserScramCredentialsDescription d =
                        get(admin.describeUserScramCredentials(List.of("alice")).description("alice"));
                    check(d.credentialInfos().size() == 1, "credentials " + d);
                } catch (Exception e) { throw new AssertionError(e); }
            });
        });

        step("describe producers", () -> {
            DescribeProducersResult.PartitionProducerState s =
                get(admin.describeProducers(List.of(idem0)).partitionResult(idem0));
            check(s.activeProducers().size() == CODECS.length, s.activeProducers().size() + " producers");
        });

        step("list, describe transactions", () -> {
            Set<String> ids = new HashSet<>();
            for (TransactionListing t : get(admin.listTransactions().all())) ids.add(t.transactionalId());
            List<String> want = new ArrayList<>();
            for (String c : CODECS) want.add("wl-tx-" + c);
            check(ids.containsAll(want), "transactions " + ids);
            Map<String, TransactionDescription> d = get(admin.describeTransactions(want).all());
            check(d.size() == CODECS.length, "described " + d.keySet());
        });

        step("delete topics", () -> get(admin.deleteTopics(List.of("wl-admin")).all()));

        admin.close(Duration.ofSeconds(10));
        System.out.printf("workload: %d passed, %d failed%n", passed, failed);
        System.out.flush();
        Runtime.getRuntime().halt(failed == 0 ? 0 : 1);
    }
}
