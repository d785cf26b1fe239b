package io.capstan.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.capstan.broker.Broker;
import io.capstan.config.BrokerConfig;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A cooperative-sticky group under continuous load: a fifth member joins four (the pause each existing member
 * sees is measured), one leaves, one crashes (a separate JVM, SIGKILLed, so only its session timeout tells the
 * coordinator). Members commit after processing. Checked: the producer sees no error and every record it sent is
 * acknowledged; every acknowledged record is processed at least once; no partition is ever owned by two in-process
 * members at once (each member's rebalance callbacks, in time order); and the group's committed offset of each
 * partition, sampled throughout, never goes backwards and never passes the log end.
 */
class GroupRebalanceTest {
    static final String TOPIC = "load";
    static final String GROUP = "coop";
    static final int PARTITIONS = 8;

    @TempDir
    Path dir;

    /** Who owned which partition when: every in-process member's rebalance callbacks, in order. */
    static final class Ownership {
        private final Map<Integer, String> owner = new java.util.HashMap<>();
        /** What each member was handed, period by period: where a lost record went missing. */
        final DeliveryLedger ledger = new DeliveryLedger();
        final List<String> violations = new CopyOnWriteArrayList<>();
        private int changes;

        synchronized void assigned(String member, java.util.Collection<org.apache.kafka.common.TopicPartition> partitions) {
            ledger.assigned(member, partitionsOf(partitions));
            for (var tp : partitions) {
                String previous = owner.putIfAbsent(tp.partition(), member);
                if (previous != null && !previous.equals(member)) {
                    violations.add(tp + " assigned to " + member + " while " + previous + " still owned it");
                }
                changes++;
            }
        }

        synchronized void released(String member, java.util.Collection<org.apache.kafka.common.TopicPartition> partitions) {
            ledger.released(member, partitionsOf(partitions));
            for (var tp : partitions) {
                owner.remove(tp.partition(), member);
                changes++;
            }
        }

        private static List<Integer> partitionsOf(java.util.Collection<org.apache.kafka.common.TopicPartition> partitions) {
            return partitions.stream().map(org.apache.kafka.common.TopicPartition::partition).toList();
        }

        synchronized int changes() {
            return changes;
        }

        private int lost;

        /** Partitions a member had to drop without revoking them (it was fenced or forgotten by the coordinator). */
        synchronized void lost(String member, java.util.Collection<org.apache.kafka.common.TopicPartition> partitions) {
            lost += partitions.size();
            released(member, partitions);
        }

        synchronized int lost() {
            return lost;
        }
    }

    /** An in-process member: polls, records what it processed and when, commits after each poll. */
    static final class Member implements Runnable {
        final KafkaConsumer<String, String> consumer;
        final Set<String> processed;
        final AtomicBoolean running = new AtomicBoolean(true);
        final List<Long> deliveries = new CopyOnWriteArrayList<>();
        /** What ended the member's loop other than stop(): its consumer threw. */
        final java.util.concurrent.atomic.AtomicReference<Throwable> failure = new java.util.concurrent.atomic.AtomicReference<>();
        final Thread thread;

        final Ownership ownership;

        /** The classic protocol with the cooperative-sticky assignor, a 6 s session and 500 ms heartbeats. */
        static final Map<String, String> CLASSIC_COOPERATIVE = Map.of("session.timeout.ms", "6000", "heartbeat.interval.ms", "500",
                "partition.assignment.strategy", "org.apache.kafka.clients.consumer.CooperativeStickyAssignor");

        Member(String bootstrap, Set<String> processed, String name, Ownership ownership) {
            this(bootstrap, GROUP, processed, name, ownership, CLASSIC_COOPERATIVE);
        }

        Member(String bootstrap, String group, Set<String> processed, String name, Ownership ownership, Map<String, String> protocol) {
            this.ownership = ownership;
            Properties p = new Properties();
            p.put("bootstrap.servers", bootstrap);
            p.put("group.id", group);
            p.put("enable.auto.commit", "false");
            p.put("auto.offset.reset", "earliest");
            p.putAll(protocol);
            this.consumer = new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer());
            this.processed = processed;
            this.thread = new Thread(this, name);
        }

        @Override
        public void run() {
            try {
                consume();
            } catch (RuntimeException | Error e) {
                failure.set(e);
                throw e;
            }
        }

        private void consume() {
            String name = thread.getName();
            consumer.subscribe(List.of(TOPIC), new org.apache.kafka.clients.consumer.ConsumerRebalanceListener() {
                @Override
                public void onPartitionsRevoked(java.util.Collection<org.apache.kafka.common.TopicPartition> partitions) {
                    ownership.released(name, partitions);
                }

                @Override
                public void onPartitionsAssigned(java.util.Collection<org.apache.kafka.common.TopicPartition> partitions) {
                    ownership.assigned(name, partitions);
                }

                @Override
                public void onPartitionsLost(java.util.Collection<org.apache.kafka.common.TopicPartition> partitions) {
                    ownership.lost(name, partitions);
                }
            });
            while (running.get()) {
                ConsumerRecords<String, String> records = consumer.poll(Duration.ofMillis(50));
                if (!records.isEmpty()) {
                    deliveries.add(System.nanoTime());
                    for (ConsumerRecord<String, String> r : records) {
                        processed.add(r.value());
                        ownership.ledger.delivered(thread.getName(), r.partition(), r.offset());
                    }
                    try {
                        consumer.commitSync();
                    } catch (org.apache.kafka.common.errors.RebalanceInProgressException | org.apache.kafka.clients.consumer.CommitFailedException e) {
                        // what an application does: keep polling; uncommitted records are redelivered (at least once)
                    }
                }
            }
            ownership.released(thread.getName(), consumer.assignment()); // close gives them up
            consumer.close();
        }

        /** Longest time between two deliveries inside [from, to]. */
        long longestGapMs(long from, long to) {
            long last = from;
            long worst = 0;
            for (long t : deliveries) {
                if (t < from) {
                    continue;
                }
                if (t > to) {
                    break;
                }
                worst = Math.max(worst, t - last);
                last = t;
            }
            return Math.max(worst, to - last) / 1_000_000;
        }

        void stop() throws InterruptedException {
            running.set(false);
            thread.join(30_000);
        }
    }

    @Test
    void cooperativeGroupKeepsConsumingThroughJoinLeaveAndCrash() throws Exception {
        Map<String, String> settings = Map.of("data.dir", dir.toString(), "listener.port", "0", "admin.port", "-1",
                "group.initial.rebalance.delay.ms", "0");
        try (Broker broker = new Broker(BrokerConfig.from(settings), settings)) {
            String bootstrap = broker.bootstrap();
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
                admin.createTopics(List.of(new NewTopic(TOPIC, PARTITIONS, (short) 1))).all().get();
            }
            Set<String> processed = ConcurrentHashMap.newKeySet();
            Set<String> acked = ConcurrentHashMap.newKeySet();
            Map<String, Long> ackedOffsets = new ConcurrentHashMap<>();
            AtomicLong sent = new AtomicLong();
            java.util.concurrent.atomic.AtomicReference<Exception> sendFailure = new java.util.concurrent.atomic.AtomicReference<>();
            AtomicBoolean producing = new AtomicBoolean(true);
            Thread load = new Thread(() -> produce(bootstrap, acked, ackedOffsets, sent, sendFailure, producing), "load");
            load.start();
            Ownership ownership = new Ownership();
            CommittedOffsets committed = new CommittedOffsets(bootstrap, GROUP, 5_000);
            Thread sampler = new Thread(committed::sampleUntilStopped, "committed-offsets");
            sampler.start();

            List<Member> members = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                Member m = new Member(bootstrap, processed, "member-" + i, ownership);
                members.add(m);
                m.thread.start();
            }
            await().atMost(Duration.ofSeconds(60)).until(() -> members.stream().allMatch(m -> m.deliveries.size() > 20));

            long joinAt = System.nanoTime();
            Member fifth = new Member(bootstrap, processed, "member-4", ownership);
            fifth.thread.start();
            await().atMost(Duration.ofSeconds(60)).until(() -> fifth.deliveries.size() > 20);
            long settled = System.nanoTime();
            long worstPause = members.stream().mapToLong(m -> m.longestGapMs(joinAt, settled)).max().orElseThrow();
            System.out.printf("a fifth member joined a 4-member cooperative group under load: it received records after %d ms; "
                    + "longest pause of an existing member %d ms; last rebalance took %d ms%n",
                    (fifth.deliveries.get(0) - joinAt) / 1_000_000, worstPause, broker.groups().describe(GROUP).lastRebalanceMs());

            fifth.stop();

            Process crashing = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("java.class.path"), "io.capstan.e2e.compat.GroupMember", bootstrap, GROUP, TOPIC)
                    .redirectErrorStream(false).start();
            AtomicLong crashedDelivered = new AtomicLong();
            Thread reader = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(crashing.getInputStream()))) {
                    String line;
                    while ((line = r.readLine()) != null) {
                        readMemberLine("crashed", line, processed, ownership.ledger);
                        if (line.startsWith("R ")) {
                            crashedDelivered.incrementAndGet();
                        }
                    }
                } catch (java.io.IOException ignored) {
                    // the process was killed
                }
            });
            reader.start();
            await().atMost(Duration.ofSeconds(60)).until(() -> crashedDelivered.get() > 100);
            killKeepingOutput(crashing);
            reader.join(30_000);
            assertThat(reader.isAlive()).as("the crashed member's output read to its end").isFalse();
            int generationAtCrash = broker.groups().describe(GROUP).generation();
            // only the session timeout can tell the coordinator about a SIGKILLed member
            await().atMost(Duration.ofSeconds(60)).until(() -> broker.groups().describe(GROUP).members().size() == 4
                    && broker.groups().describe(GROUP).generation() > generationAtCrash);

            producing.set(false);
            load.join();
            try {
                await().atMost(Duration.ofSeconds(90)).until(() -> processed.containsAll(acked));
            } catch (org.awaitility.core.ConditionTimeoutException e) {
                throw new AssertionError(missingReport(acked, ackedOffsets, processed, ownership.ledger, bootstrap)
                        + "\n  members: " + members.stream().map(m -> m.thread.getName() + (m.thread.isAlive() ? " running" : " ended by " + m.failure.get()))
                        .toList() + "\n  group " + broker.groups().describe(GROUP), e);
            }
            for (Member m : members) {
                m.stop();
            }
            committed.stop();
            sampler.join(30_000);
            assertThat(sendFailure.get()).as("producer error").isNull();
            assertThat(members).allSatisfy(m -> assertThat(m.failure.get()).as("what ended %s", m.thread.getName()).isNull());
            assertThat(acked).isNotEmpty().hasSize((int) sent.get());
            assertThat(processed).as("every acknowledged record was processed at least once").containsAll(acked);
            assertThat(ownership.violations).as("partitions owned by two members at once").isEmpty();
            assertThat(ownership.ledger.skips()).as("offsets a fetch skipped while a member owned the partition").isEmpty();
            assertThat(ownership.changes()).as("ownership changes seen").isPositive();
            assertThat(committed.violations).as("committed offsets that went backwards or past the log end").isEmpty();
            assertThat(committed.samples.get()).as("committed-offset samples").isPositive();
            System.out.printf("group test: %d records produced, all processed at least once; crashed member processed %d before SIGKILL;"
                    + " %d ownership changes, never two owners; %d samples of committed offsets, never backwards%n",
                    acked.size(), crashedDelivered.get(), ownership.changes(), committed.samples.get());
            assertThat(worstPause).as("existing members keep consuming while a member joins").isLessThan(30_000);
        }
    }

    /** Samples the group's committed offsets and the log ends with the Admin API until stopped; records any regression. */
    static final class CommittedOffsets {
        final List<String> violations = new CopyOnWriteArrayList<>();
        final AtomicLong samples = new AtomicLong();
        final AtomicLong skipped = new AtomicLong();
        /** The longest a committed offset stayed past the log end a consumer may read to (ms), judged or not. */
        final AtomicLong longestPastEndMs = new AtomicLong();
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final String bootstrap;
        private final String group;
        private final long pastEndLimitNanos;

        /** {@code pastEndLimitMs}: how long a committed offset may stay past the log end (see below). */
        CommittedOffsets(String bootstrap, String group, long pastEndLimitMs) {
            this.bootstrap = bootstrap;
            this.group = group;
            this.pastEndLimitNanos = pastEndLimitMs * 1_000_000L;
        }

        /**
         * A committed offset past the log end (the high watermark) is judged only if it stays so for longer than the
         * limit: right after a leader change the new leader's high watermark trails the old one's until every in-sync
         * follower has fetched from it (as in Kafka), which is as long as acks=all writes wait, so a test's bound on
         * produce unavailability is its bound here. A sample that fails for a retriable reason (a coordinator or leader
         * moving) is skipped and counted.
         */
        void sampleUntilStopped() {
            Map<Integer, Long> last = new java.util.HashMap<>();
            Map<Integer, Long> pastEndSince = new java.util.HashMap<>();
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
                while (running.get()) {
                    try {
                        sample(admin, last, pastEndSince);
                        samples.incrementAndGet();
                    } catch (java.util.concurrent.ExecutionException e) {
                        if (!(e.getCause() instanceof org.apache.kafka.common.errors.RetriableException)) {
                            throw e;
                        }
                        skipped.incrementAndGet();
                    }
                    java.util.concurrent.locks.LockSupport.parkNanos(100_000_000L); // sampling period, not synchronisation
                }
            } catch (Exception e) {
                violations.add("sampling failed: " + e);
            }
        }

        private void sample(Admin admin, Map<Integer, Long> last, Map<Integer, Long> pastEndSince) throws Exception {
            var offsets = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
            Map<org.apache.kafka.common.TopicPartition, org.apache.kafka.clients.admin.OffsetSpec> latest = new java.util.HashMap<>();
            offsets.keySet().forEach(tp -> latest.put(tp, org.apache.kafka.clients.admin.OffsetSpec.latest()));
            var ends = admin.listOffsets(latest).all().get();
            long now = System.nanoTime();
            offsets.forEach((tp, om) -> {
                if (om == null) {
                    return;
                }
                Long before = last.put(tp.partition(), om.offset());
                if (before != null && om.offset() < before) {
                    violations.add(tp + " committed offset went back from " + before + " to " + om.offset());
                }
                if (om.offset() <= ends.get(tp).offset()) {
                    pastEndSince.remove(tp.partition());
                    return;
                }
                long pastFor = now - pastEndSince.computeIfAbsent(tp.partition(), k -> now);
                longestPastEndMs.accumulateAndGet(pastFor / 1_000_000, Math::max);
                if (pastFor > pastEndLimitNanos) {
                    violations.add(String.format("%s committed offset %d has been past the log end %d for %d ms (sampled at %s)", tp, om.offset(),
                            ends.get(tp).offset(), pastFor / 1_000_000, java.time.LocalTime.now()));
                    pastEndSince.remove(tp.partition());
                }
            });
        }

        void stop() {
            running.set(false);
        }
    }

    /**
     * SIGKILLs a member process and waits for it, leaving its output pipe open: what it printed (and so may have
     * committed) before it died is still read to the end. {@link Process#destroyForcibly()} closes that pipe as well,
     * throwing away lines not read yet, which made a crashed member's last processed records look lost.
     */
    static void killKeepingOutput(Process process) throws InterruptedException {
        process.toHandle().destroyForcibly();
        process.waitFor();
    }

    /**
     * A group member's output line: "R value [partition offset]" for a record it processed ("G partitions" and
     * "L partitions" as it gains and gives up partitions, when it reports them).
     */
    static void readMemberLine(String member, String line, Set<String> processed, DeliveryLedger ledger) {
        String[] words = line.split(" ");
        if (words[0].equals("R") && words.length >= 2) {
            processed.add(words[1]);
            if (words.length == 4) {
                ledger.delivered(member, Integer.parseInt(words[2]), Long.parseLong(words[3]));
            }
        } else if ((words[0].equals("G") || words[0].equals("L")) && words.length == 2) {
            List<Integer> partitions = java.util.Arrays.stream(words[1].split(",")).map(Integer::valueOf).toList();
            if (words[0].equals("G")) {
                ledger.assigned(member, partitions);
            } else {
                ledger.released(member, partitions);
            }
        }
    }

    /**
     * Which acknowledged records are missing (partition and offset), whether the log still holds each, and who was
     * handed what of their partitions: a skip inside a period is the fetch's, a gap between periods the commits'.
     */
    static String missingReport(Set<String> acked, Map<String, Long> ackedOffsets, Set<String> processed, DeliveryLedger ledger,
                                String bootstrap) {
        Map<Integer, java.util.TreeMap<Long, String>> missing = new java.util.TreeMap<>();
        for (String v : acked) {
            if (!processed.contains(v)) {
                missing.computeIfAbsent(partitionOf(v), p -> new java.util.TreeMap<>()).put(ackedOffsets.getOrDefault(v, -1L), v);
            }
        }
        StringBuilder report = new StringBuilder("acknowledged records not processed within 90 s:");
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        try (KafkaConsumer<String, String> reader = new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer())) {
            missing.forEach((partition, offsets) -> {
                var tp = new org.apache.kafka.common.TopicPartition(TOPIC, partition);
                reader.assign(List.of(tp));
                reader.seek(tp, Math.max(0, offsets.firstKey()));
                Map<Long, String> inLog = new java.util.HashMap<>();
                long until = System.nanoTime() + 10_000_000_000L;
                while (inLog.size() < offsets.size() && System.nanoTime() < until) {
                    for (ConsumerRecord<String, String> r : reader.poll(Duration.ofMillis(200))) {
                        if (offsets.containsKey(r.offset())) {
                            inLog.put(r.offset(), r.value());
                        }
                    }
                }
                report.append("\n  p").append(partition).append(": ").append(offsets.size()).append(" missing, at offsets ")
                        .append(offsets.keySet()).append("; the log there holds ").append(inLog).append("\n  ")
                        .append(ledger.describe(partition, 8));
            });
        }
        report.append("\n  skips inside a period: ").append(ledger.skips());
        return report.toString();
    }

    /** Value "r<i>" went to partition (i + 1) % PARTITIONS. */
    private static int partitionOf(String value) {
        return (int) ((Long.parseLong(value.substring(1)) + 1) % PARTITIONS);
    }

    static void produce(String bootstrap, Set<String> acked, Map<String, Long> ackedOffsets, AtomicLong sent,
                        java.util.concurrent.atomic.AtomicReference<Exception> failure, AtomicBoolean producing) {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("linger.ms", "5");
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
            long start = System.nanoTime();
            long i = 0;
            while (producing.get()) {
                long due = start + i * 1_000_000_000L / 2_000; // 2,000 records/s: the load, not synchronisation
                java.util.concurrent.locks.LockSupport.parkNanos(due - System.nanoTime());
                String value = "r" + i++;
                sent.incrementAndGet();
                producer.send(new ProducerRecord<>(TOPIC, (int) (i % PARTITIONS), null, value), (md, e) -> {
                    if (e == null) {
                        ackedOffsets.put(value, md.offset());
                        acked.add(value);
                    } else {
                        failure.compareAndSet(null, e);
                    }
                });
            }
            producer.flush();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
