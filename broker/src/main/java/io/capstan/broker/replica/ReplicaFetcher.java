package io.capstan.broker.replica;

import io.capstan.config.BrokerConfig;
import io.capstan.broker.log.AppendResult;
import io.capstan.broker.log.BatchHeader;
import io.capstan.broker.log.EpochHistory;
import io.capstan.broker.log.LogManager;
import io.capstan.broker.log.Shard;
import io.capstan.cluster.metadata.BrokerRegistration;
import io.capstan.cluster.view.ClusterView;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.message.OffsetForLeaderEpochRequestData;
import org.apache.kafka.common.message.OffsetForLeaderEpochResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Copies the shards one leader leads into this broker's log, as Kafka's replica fetcher does: for each shard first
 * OffsetForLeaderEpoch (truncate what the leader never had), then Fetch with this broker's id from the durable log
 * end, append the leader's batches unchanged, and take the leader's high watermark. The next fetch's offset tells the
 * leader what is now durable here, which is what moves its high watermark.
 */
final class ReplicaFetcher implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ReplicaFetcher.class);
    private static final short FETCH_VERSION = 12;
    private static final short EPOCH_VERSION = 3;
    private static final long RETRY_MS = 200;
    /**
     * The first pause between attempts while a shard waits for the leader to take its leadership: a follower often learns
     * of a new leader before the leader does (each reads the change from the metadata store on its own), and every
     * millisecond of that wait is a millisecond producers with acks=all cannot write.
     */
    private static final long RECONCILE_RETRY_MS = 10;

    private final int me;
    private final int leaderId;
    private final ClusterView view;
    private final LogManager logs;
    private final BrokerConfig.Replication settings;
    private final Map<TopicPartition, Fetching> partitions = new ConcurrentHashMap<>();
    private final Thread thread;
    private final Object changed = new Object();
    /**
     * Held while a response is applied to the logs and by {@link #remove}: once a shard is removed, nothing this
     * fetcher received for it can land in its log any more (Kafka's fetcher holds its partition-map lock the same way).
     */
    private final Object applying = new Object();
    private volatile boolean running = true;
    /** The connection of the fetch now waiting at the leader for records (replica.fetch.max.wait.ms), if one is. */
    private volatile LeaderConnection longPoll;
    /** Shards added so far: a fetch round that saw a different count before it began to wait does not wait. */
    private final java.util.concurrent.atomic.AtomicLong additions = new java.util.concurrent.atomic.AtomicLong();
    /** Set when {@link #add} cut a long poll short: the fetch loop reconnects at once instead of reporting a failure. */
    private volatile boolean cutShort;

    /** One shard being copied: the epoch it follows in, and whether its log has been reconciled with the leader's. */
    private static final class Fetching {
        final Shard shard;
        final int epoch;
        volatile boolean reconciled;
        /** The offset the fetch in flight asked from: the leader's first batch may begin later (compacted) but not this log. */
        long fetchedFrom;
        /** Whether this round's fetch of it counts against the follower's replication throttle. */
        boolean throttled;

        Fetching(Shard shard, int epoch) {
            this.shard = shard;
            this.epoch = epoch;
        }
    }

    private final InterBrokerTransport transport;
    private final ReplicationQuotas quotas;

    ReplicaFetcher(int me, int leaderId, ClusterView view, LogManager logs, BrokerConfig.Replication settings, InterBrokerTransport transport,
                   ReplicationQuotas quotas) {
        this.quotas = quotas;
        this.transport = transport;
        this.me = me;
        this.leaderId = leaderId;
        this.view = view;
        this.logs = logs;
        this.settings = settings;
        this.thread = new Thread(this::run, "capstan-replica-fetcher-" + leaderId);
        this.thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    /**
     * Starts copying a shard. A fetch waiting at the leader for records of the other shards (up to
     * replica.fetch.max.wait.ms) is cut short, so the new one is reconciled and fetched at once: after a failover the
     * new leader's acks=all writes wait for exactly this.
     */
    void add(Shard shard, int epoch) {
        partitions.put(shard.topicPartition(), new Fetching(shard, epoch));
        additions.incrementAndGet();
        signal();
        // counted before looking, as fetch marks its wait before counting: one of the two always sees the other
        LeaderConnection waiting = longPoll;
        if (waiting != null) {
            longPoll = null;
            cutShort = true;
            waiting.abort();
        }
    }

    /**
     * Stops copying {@code tp}; when this returns, no append of this fetcher's to it is in flight or can start. Without
     * that, a response from a deposed leader could land after the shard follows a new leader (and was truncated to
     * agree with it) or leads itself: a batch of the old epoch where the new leader holds other records.
     */
    void remove(TopicPartition tp) {
        if (!partitions.containsKey(tp)) {
            return; // only ever added by the role thread that also removes: nothing of ours can be in flight for it
        }
        synchronized (applying) {
            partitions.remove(tp);
        }
    }

    private void signal() {
        synchronized (changed) {
            changed.notifyAll();
        }
    }

    private void pause(long ms) {
        synchronized (changed) {
            try {
                changed.wait(ms);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                running = false;
            }
        }
    }

    private void run() {
        while (running) {
            if (partitions.isEmpty()) {
                pause(1000);
                continue;
            }
            BrokerRegistration leader = view.broker(leaderId);
            if (leader == null) {
                pause(RETRY_MS);
                continue;
            }
            int timeout = settings.fetchMaxWaitMs() + 30_000;
            try (LeaderConnection connection = new LeaderConnection(transport, leader.host(), leader.port(), timeout, "capstan-replica-" + me)) {
                cutShort = false; // only an abort of this connection counts from here on
                long reconcileRetry = RECONCILE_RETRY_MS;
                while (running && !partitions.isEmpty()) {
                    reconcile(connection);
                    Round round = fetch(connection);
                    if (round == Round.LEADER_PENDING) {
                        pause(reconcileRetry); // doubling up to RETRY_MS: a leader that stays away is not asked 100 times a second
                        reconcileRetry = Math.min(RETRY_MS, reconcileRetry * 2);
                    } else {
                        reconcileRetry = RECONCILE_RETRY_MS;
                        if (round == Round.IDLE) {
                            pause(RETRY_MS);
                        }
                    }
                }
            } catch (IOException | RuntimeException e) {
                if (cutShort) {
                    cutShort = false; // a shard was added during a long poll: reconnect and include it now
                } else if (running) {
                    log.info("broker {}: fetching from broker {} at {}:{} failed ({}); retrying", me, leaderId, leader.host(), leader.port(), e.toString());
                    pause(RETRY_MS);
                }
            }
        }
    }

    /** OffsetForLeaderEpoch for every shard not yet reconciled, then truncation to where the logs agree. */
    private void reconcile(LeaderConnection connection) throws IOException {
        OffsetForLeaderEpochRequestData request = new OffsetForLeaderEpochRequestData().setReplicaId(me);
        Map<TopicPartition, Fetching> asked = new java.util.HashMap<>();
        for (Fetching f : partitions.values()) {
            if (f.reconciled) {
                continue;
            }
            if (f.shard.epochs().latestEpoch() == EpochHistory.UNDEFINED_EPOCH) {
                f.reconciled = true; // an empty log agrees with any leader
                continue;
            }
            TopicPartition tp = f.shard.topicPartition();
            OffsetForLeaderEpochRequestData.OffsetForLeaderTopic topic = request.topics().find(tp.topic());
            if (topic == null) {
                topic = new OffsetForLeaderEpochRequestData.OffsetForLeaderTopic().setTopic(tp.topic());
                request.topics().add(topic);
            }
            topic.partitions().add(new OffsetForLeaderEpochRequestData.OffsetForLeaderPartition()
                    .setPartition(tp.partition()).setCurrentLeaderEpoch(f.epoch).setLeaderEpoch(f.shard.epochs().latestEpoch()));
            asked.put(tp, f);
        }
        if (asked.isEmpty()) {
            return;
        }
        OffsetForLeaderEpochResponseData response = connection.send(ApiKeys.OFFSET_FOR_LEADER_EPOCH, EPOCH_VERSION, request);
        synchronized (applying) {
            truncateAll(response, asked);
        }
    }

    private void truncateAll(OffsetForLeaderEpochResponseData response, Map<TopicPartition, Fetching> asked) {
        for (OffsetForLeaderEpochResponseData.OffsetForLeaderTopicResult topic : response.topics()) {
            for (OffsetForLeaderEpochResponseData.EpochEndOffset p : topic.partitions()) {
                Fetching f = asked.get(new TopicPartition(topic.topic(), p.partition()));
                if (f == null || partitions.get(f.shard.topicPartition()) != f) {
                    continue;
                }
                if (p.errorCode() != Errors.NONE.code()) {
                    log.debug("broker {}: leader {} refused OffsetForLeaderEpoch for {}: {}", me, leaderId, f.shard, Errors.forCode(p.errorCode()));
                    continue;
                }
                truncateToAgreement(f, p.leaderEpoch(), p.endOffset());
            }
        }
    }

    private void truncateToAgreement(Fetching f, int leaderEpoch, long leaderEndOffset) {
        Shard shard = f.shard;
        long target;
        if (leaderEpoch == EpochHistory.UNDEFINED_EPOCH) {
            target = shard.highWatermark(); // the leader remembers none of our epochs: keep only what was committed
        } else {
            long ours = shard.epochs().endOf(leaderEpoch, shard.logEnd()).endOffset();
            target = ours < 0 ? leaderEndOffset : Math.min(leaderEndOffset, ours);
        }
        if (target < shard.logEnd()) {
            log.info("broker {}: truncating {} from {} to {} (the leader's epoch {} ends at {})", me, shard, shard.logEnd(),
                    target, leaderEpoch, leaderEndOffset);
        }
        // queued even when the durable end is not past the target: a batch this broker accepted as leader may still
        // be on its way into the log, and the committer, which writes in queue order, drops it there if so
        try {
            logs.truncateEnd(shard, target).get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("cannot truncate " + shard + " to " + target + ": " + e, e);
        }
        f.reconciled = true;
    }

    /** What a fetch round found: records asked for, nothing to ask for, or a shard still waiting for its leader. */
    private enum Round { FETCHED, IDLE, LEADER_PENDING }

    /**
     * Whether fetching the shard counts against follower.replication.throttled.rate: the topic's
     * follower.replication.throttled.replicas names this broker's replica, and this replica is not in sync.
     */
    private boolean throttled(Shard shard) {
        TopicPartition tp = shard.topicPartition();
        if (!quotas.follower().names(logs.catalog().topic(tp.topic()), tp.partition(), me)) {
            return false;
        }
        io.capstan.cluster.metadata.ShardState state = view.state(tp.topic(), tp.partition());
        return state == null || !state.isr().contains(me);
    }

    /** One fetch round for the shards reconciled with the leader. */
    private Round fetch(LeaderConnection connection) throws IOException {
        FetchRequestData request = new FetchRequestData().setReplicaId(me)
                .setMinBytes(1).setMaxBytes(settings.fetchMaxBytes()).setIsolationLevel((byte) 0)
                .setSessionId(0).setSessionEpoch(-1);
        Map<TopicPartition, Fetching> asked = new java.util.HashMap<>();
        Map<String, FetchRequestData.FetchTopic> topics = new java.util.HashMap<>();
        boolean pending = false;
        boolean heldBack = false;
        long seen = additions.get();
        int allowance = quotas.follower().allowance(); // shared by this round's throttled shards
        for (Fetching f : partitions.values()) {
            if (!f.reconciled) {
                pending = true;
                continue;
            }
            f.throttled = throttled(f.shard);
            if (f.throttled && allowance <= 0) {
                heldBack = true; // left out of this round, as Kafka's fetcher leaves a throttled partition out
                continue;
            }
            int maxBytes = f.throttled ? Math.min(settings.fetchMaxBytes(), allowance) : settings.fetchMaxBytes();
            if (f.throttled) {
                allowance -= maxBytes;
            }
            TopicPartition tp = f.shard.topicPartition();
            FetchRequestData.FetchTopic topic = topics.computeIfAbsent(tp.topic(), name -> {
                FetchRequestData.FetchTopic t = new FetchRequestData.FetchTopic().setTopic(name);
                request.topics().add(t);
                return t;
            });
            f.fetchedFrom = f.shard.logEnd();
            topic.partitions().add(new FetchRequestData.FetchPartition().setPartition(tp.partition())
                    .setCurrentLeaderEpoch(f.epoch).setFetchOffset(f.fetchedFrom).setLogStartOffset(f.shard.logStartOffset())
                    .setPartitionMaxBytes(maxBytes));
            asked.put(tp, f);
        }
        if (asked.isEmpty()) {
            return pending || heldBack ? Round.LEADER_PENDING : Round.IDLE;
        }
        // no waiting at the leader while a shard still waits for it to take its leadership, or was added meanwhile
        boolean waits = !pending && settings.fetchMaxWaitMs() > 0;
        if (waits) {
            longPoll = connection;
            waits = additions.get() == seen;
            if (!waits) {
                longPoll = null; // a round that will not wait has nothing for add() to cut short
            }
        }
        request.setMaxWaitMs(waits ? settings.fetchMaxWaitMs() : 0);
        FetchResponseData response;
        try {
            response = connection.send(ApiKeys.FETCH, FETCH_VERSION, request);
        } finally {
            longPoll = null;
        }
        if (response.errorCode() != Errors.NONE.code()) {
            log.info("broker {}: leader {} refused the fetch: {}", me, leaderId, Errors.forCode(response.errorCode()));
            return pending ? Round.LEADER_PENDING : Round.IDLE;
        }
        synchronized (applying) {
            applyAll(response, asked);
        }
        return pending ? Round.LEADER_PENDING : Round.FETCHED;
    }

    /** Appends what the leader sent for the shards still fetched, waits until it is durable, then takes its high watermark. */
    private void applyAll(FetchResponseData response, Map<TopicPartition, Fetching> asked) {
        List<CompletableFuture<AppendResult>> appends = new ArrayList<>();
        List<Runnable> afterAppends = new ArrayList<>();
        for (FetchResponseData.FetchableTopicResponse topic : response.responses()) {
            for (FetchResponseData.PartitionData p : topic.partitions()) {
                Fetching f = asked.get(new TopicPartition(topic.topic(), p.partitionIndex()));
                if (f == null || partitions.get(f.shard.topicPartition()) != f) {
                    continue;
                }
                Errors error = Errors.forCode(p.errorCode());
                if (error == Errors.OFFSET_OUT_OF_RANGE && p.logStartOffset() > f.shard.logEnd()) {
                    // the leader no longer has what comes next here (retention ran while this replica was away or new)
                    log.info("broker {}: {} ends at {} but the leader's log starts at {}; restarting it empty there", me, f.shard,
                            f.shard.logEnd(), p.logStartOffset());
                    try {
                        logs.resetTo(f.shard, p.logStartOffset()).get(30, TimeUnit.SECONDS);
                    } catch (Exception e) {
                        throw new IllegalStateException("cannot reset " + f.shard + ": " + e, e);
                    }
                    continue;
                }
                if (error == Errors.OFFSET_OUT_OF_RANGE) {
                    log.info("broker {}: {} is out of the leader's range at {}; reconciling again", me, f.shard, f.shard.logEnd());
                    f.reconciled = false;
                    continue;
                }
                if (error != Errors.NONE) {
                    log.debug("broker {}: leader {} refused fetch of {}: {}", me, leaderId, f.shard, error);
                    continue;
                }
                long leaderBase = firstBaseOffset((MemoryRecords) p.records());
                if (leaderBase >= 0 && leaderBase < f.shard.logEnd()) {
                    truncateDiverged(f, leaderBase);
                    continue;
                }
                appendAll(f.shard, f.fetchedFrom, (MemoryRecords) p.records(), appends);
                if (f.throttled && p.records() != null) {
                    quotas.follower().moved(p.records().sizeInBytes());
                }
                long leaderHw = p.highWatermark();
                long leaderStart = p.logStartOffset();
                afterAppends.add(() -> {
                    f.shard.advanceHighWatermark(leaderHw);
                    followLogStart(f.shard, leaderStart);
                });
            }
        }
        for (CompletableFuture<AppendResult> append : appends) {
            AppendResult result = append.join();
            if (result.error() != Errors.NONE) {
                log.info("broker {}: could not append the leader's batch: {} {}", me, result.error(), result.message());
            }
        }
        afterAppends.forEach(Runnable::run);
    }

    /**
     * The leader's log start moved past this replica's (DeleteRecords, or the leader's retention running first):
     * records below it go here too, as far as this replica's high watermark, as in Kafka, so that a replica which
     * leads next does not serve deleted records again.
     */
    private void followLogStart(Shard shard, long leaderStart) {
        long target = Math.min(leaderStart, shard.highWatermark());
        if (target <= shard.logStartOffset()) {
            return;
        }
        try {
            logs.deleteRecordsBefore(shard, target).get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("cannot move the log start of " + shard + " to " + target + ": " + e, e);
        }
    }

    /** The base offset of the first batch the leader sent, or -1 when it sent none. */
    private static long firstBaseOffset(MemoryRecords records) {
        if (records == null || records.sizeInBytes() < BatchHeader.HEADER_SIZE) {
            return -1;
        }
        ByteBuffer buf = records.buffer();
        return new BatchHeader().wrap(buf, buf.position()).baseOffset();
    }

    /**
     * The leader answered a fetch from this log's end with a batch that begins below it: its batch boundaries differ
     * from ours there, so our last records are not the leader's (a write the epochs could not tell apart, such as one
     * stamped with the epoch that replaced it). The leader's log wins: ours is cut back to where its batch begins and
     * fetched again, instead of failing every append from then on.
     */
    private void truncateDiverged(Fetching f, long leaderBase) {
        Shard shard = f.shard;
        log.warn("broker {}: the leader's batch for {} begins at {}, below this replica's log end {}: the logs differ there;"
                + " truncating to {} and fetching again", me, shard, leaderBase, shard.logEnd(), leaderBase);
        try {
            logs.truncateEnd(shard, leaderBase).get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("cannot truncate " + shard + " to " + leaderBase + ": " + e, e);
        }
    }

    private void appendAll(Shard shard, long fetchedFrom, MemoryRecords records, List<CompletableFuture<AppendResult>> appends) {
        if (records == null) {
            return;
        }
        ByteBuffer buf = records.buffer();
        BatchHeader header = new BatchHeader();
        int pos = buf.position();
        long expectedEnd = fetchedFrom;
        while (buf.limit() - pos >= BatchHeader.HEADER_SIZE) {
            header.wrap(buf, pos);
            int size = header.sizeInBytes();
            if (size > buf.limit() - pos) {
                break; // a partial batch at the end of a response; fetched again next round
            }
            // a pooled buffer rather than a heap array: the log owns it, releases it once written, and the tail
            // cache keeps a copy outside the heap (docs/decisions/0031)
            ByteBuf batch = PooledByteBufAllocator.DEFAULT.directBuffer(size, size);
            batch.writeBytes(buf.duplicate().position(pos).limit(pos + size));
            CompletableFuture<AppendResult> done = new CompletableFuture<>();
            logs.appendFromLeader(shard, batch, expectedEnd, done::complete);
            appends.add(done);
            expectedEnd = header.lastOffset() + 1;
            pos += size;
        }
    }

    @Override
    /** Stops the fetch loop and waits (a few seconds at most) until no fetch of its is in flight. */
    public void close() {
        running = false;
        signal();
        thread.interrupt();
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
