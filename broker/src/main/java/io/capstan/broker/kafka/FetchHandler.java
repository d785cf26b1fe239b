package io.capstan.broker.kafka;

import io.capstan.broker.log.AbortedTxn;
import io.capstan.broker.log.BatchHeader;
import io.capstan.broker.log.LogManager;
import io.capstan.broker.log.Shard;
import io.capstan.broker.log.TopicMeta;
import io.capstan.broker.replica.Replication;
import io.netty.buffer.ByteBuf;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.message.FetchResponseData.FetchableTopicResponse;
import org.apache.kafka.common.message.FetchResponseData.PartitionData;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.record.internal.MemoryRecords;

/**
 * Fetch with long polling: answers at once when min bytes are available or max wait is zero; otherwise parks in the
 * {@link FetchPurgatory} until a commit brings data or the wait runs out. Consumers read up to the high watermark
 * from the leader only; followers (a replica id in the request) read up to the leader's durable log end, and the
 * offset they fetch from is what tells the leader how far they have copied. Consumers get incremental fetch sessions
 * (KIP-227, {@link FetchSessions}): after the first fetch they send and receive only the partitions that changed.
 */
public final class FetchHandler implements ApiHandler {
    private static final int TOPIC_IDS_VERSION = 13;

    private static final int REPLICA_STATE_VERSION = 15;

    private final LogManager logs;
    private final FetchPurgatory purgatory;
    private final Replication replication;
    private final int fetchMaxBytes;
    private final FetchSessions sessions;
    /** Fetch sessions exist from v7. */
    private static final int SESSIONS_VERSION = 7;

    /** {@code fetchMaxBytes}: fetch.max.bytes, the cap on every answer whatever the request's own max bytes. */
    public FetchHandler(LogManager logs, FetchPurgatory purgatory, Replication replication, int fetchMaxBytes, FetchSessions sessions) {
        this.sessions = sessions;
        this.fetchMaxBytes = fetchMaxBytes;
        this.logs = logs;
        this.purgatory = purgatory;
        this.replication = replication;
    }

    @Override
    public CompletionStage<ApiMessage> handle(RequestContext context, ApiMessage message) {
        FetchRequestData request = (FetchRequestData) message;
        short version = context.version();
        boolean withSessions = version >= SESSIONS_VERSION;
        FetchSessions.Begun begun = sessions.begin(withSessions ? request.sessionId() : 0,
                withSessions ? request.sessionEpoch() : FetchSessions.FINAL_EPOCH, partitionsOf(request, version), forgottenOf(request, version));
        if (begun.error() != Errors.NONE) {
            return CompletableFuture.completedFuture(new FetchResponseData().setErrorCode(begun.error().code()).setSessionId(0));
        }
        FetchRequestData toRead = begun.incremental() ? expand(request, begun.partitions(), version) : request;
        UnaryOperator<FetchResponseData> finish = begun.session() == null ? r -> r
                : r -> answerForSession(r, begun.session(), begun.incremental(), version);
        CompletableFuture<ApiMessage> done = new CompletableFuture<>();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(Math.max(0, request.maxWaitMs()));
        attempt(context, toRead, deadline, done, new Parking(), finish);
        return done;
    }

    /** The partitions a request names, as a session keeps them (by topic id from v13, by name before). */
    private static List<FetchSessions.Partition> partitionsOf(FetchRequestData request, short version) {
        List<FetchSessions.Partition> out = new ArrayList<>();
        for (FetchRequestData.FetchTopic t : request.topics()) {
            for (FetchRequestData.FetchPartition p : t.partitions()) {
                out.add(new FetchSessions.Partition(t.topic(), version >= TOPIC_IDS_VERSION ? t.topicId() : Uuid.ZERO_UUID, p.partition(),
                        p.fetchOffset(), p.partitionMaxBytes(), p.currentLeaderEpoch(), p.logStartOffset()));
            }
        }
        return out;
    }

    private static List<FetchSessions.Key> forgottenOf(FetchRequestData request, short version) {
        List<FetchSessions.Key> out = new ArrayList<>();
        if (version >= SESSIONS_VERSION) {
            for (FetchRequestData.ForgottenTopic t : request.forgottenTopicsData()) {
                for (int p : t.partitions()) {
                    out.add(FetchSessions.Key.of(t.topic(), version >= TOPIC_IDS_VERSION ? t.topicId() : Uuid.ZERO_UUID, p));
                }
            }
        }
        return out;
    }

    /** An incremental request as the full one it stands for: every partition of the session, topics kept together. */
    private static FetchRequestData expand(FetchRequestData request, List<FetchSessions.Partition> partitions, short version) {
        Map<FetchSessions.Key, FetchRequestData.FetchTopic> topics = new LinkedHashMap<>();
        List<FetchRequestData.FetchTopic> ordered = new ArrayList<>();
        for (FetchSessions.Partition p : partitions) {
            FetchSessions.Key topicKey = FetchSessions.Key.of(p.topic(), p.topicId(), -1);
            FetchRequestData.FetchTopic t = topics.computeIfAbsent(topicKey, k -> {
                FetchRequestData.FetchTopic created = new FetchRequestData.FetchTopic().setTopic(p.topic() == null ? "" : p.topic())
                        .setTopicId(p.topicId());
                ordered.add(created);
                return created;
            });
            t.partitions().add(new FetchRequestData.FetchPartition().setPartition(p.partition()).setFetchOffset(p.fetchOffset())
                    .setPartitionMaxBytes(p.maxBytes()).setCurrentLeaderEpoch(p.currentLeaderEpoch()).setLogStartOffset(p.logStartOffset()));
        }
        return new FetchRequestData().setReplicaId(request.replicaId()).setReplicaState(request.replicaState())
                .setMaxWaitMs(request.maxWaitMs()).setMinBytes(request.minBytes()).setMaxBytes(request.maxBytes())
                .setIsolationLevel(request.isolationLevel()).setSessionId(request.sessionId()).setSessionEpoch(request.sessionEpoch())
                .setTopics(ordered).setRackId(request.rackId());
    }

    /**
     * The answer as the session's client expects it: its session id, and for an incremental fetch only the partitions
     * with records, an error or a new high watermark or log start.
     */
    private static FetchResponseData answerForSession(FetchResponseData response, FetchSessions.Session session, boolean incremental,
                                                      short version) {
        Map<FetchSessions.Key, FetchSessions.PartitionOutcome> outcomes = new HashMap<>();
        for (FetchableTopicResponse t : response.responses()) {
            for (PartitionData p : t.partitions()) {
                outcomes.put(FetchSessions.Key.of(t.topic(), version >= TOPIC_IDS_VERSION ? t.topicId() : Uuid.ZERO_UUID, p.partitionIndex()),
                        new FetchSessions.PartitionOutcome(p.records() != null && p.records().sizeInBytes() > 0,
                                p.errorCode() != Errors.NONE.code(), p.highWatermark(), p.lastStableOffset(), p.logStartOffset()));
            }
        }
        java.util.Set<FetchSessions.Key> included = new java.util.HashSet<>(session.answer(outcomes));
        response.setSessionId(session.id());
        if (incremental) {
            for (FetchableTopicResponse t : response.responses()) {
                t.partitions().removeIf(p -> {
                    boolean left = !included.contains(
                            FetchSessions.Key.of(t.topic(), version >= TOPIC_IDS_VERSION ? t.topicId() : Uuid.ZERO_UUID, p.partitionIndex()));
                    if (left) {
                        ReferenceCountUtil.release(p.records());
                    }
                    return left;
                });
            }
            response.responses().removeIf(t -> t.partitions().isEmpty());
        }
        return response;
    }

    /** Where a long-poll fetch waits now: its purgatory entry and its timer. */
    private static final class Parking {
        private volatile FetchPurgatory.Waiter waiter;
        private volatile ScheduledFuture<?> timer;

        /** True the first time: the caller then arranges the release (a fetch answered at once never parks). */
        boolean parked(FetchPurgatory.Waiter waiter, ScheduledFuture<?> timer) {
            boolean first = this.waiter == null;
            this.waiter = waiter;
            this.timer = timer;
            return first;
        }

        /** The timer of an earlier wait, which a wake-up ended. */
        void cancelTimer() {
            ScheduledFuture<?> t = timer;
            if (t != null) {
                t.cancel(false);
            }
        }

        void release(FetchPurgatory purgatory) {
            FetchPurgatory.Waiter w = waiter;
            if (w != null && w.claim()) {
                purgatory.unpark(w);
            }
            cancelTimer();
        }
    }

    private void attempt(RequestContext context, FetchRequestData request, long deadline, CompletableFuture<ApiMessage> done,
                         Parking parking, UnaryOperator<FetchResponseData> finish) {
        if (done.isDone()) {
            return; // cancelled while a wake-up was on its way
        }
        parking.cancelTimer();
        List<Shard> watched = new ArrayList<>();
        Result result = read(context, request, watched);
        long remaining = deadline - System.nanoTime();
        if (result.bytes >= request.minBytes() || result.errors || remaining <= 0 || watched.isEmpty()) {
            FetchResponseData answer = finish.apply(result.response);
            if (!done.complete(answer)) {
                BatchRecords.releaseAll(answer); // cancelled meanwhile: its connection closed
            }
            return;
        }
        BatchRecords.releaseAll(result.response); // too little yet: it waits and reads again
        EventExecutor loop = (EventExecutor) context.eventLoop();
        // a follower waits for the log end, a consumer for the high watermark: either moving counts
        long[] seen = watched.stream().mapToLong(s -> s.highWatermark() + s.logEnd()).toArray();
        FetchPurgatory.Waiter[] holder = new FetchPurgatory.Waiter[1];
        Runnable retry = () -> {
            try {
                loop.execute(() -> attempt(context, request, deadline, done, parking, finish));
            } catch (java.util.concurrent.RejectedExecutionException closing) {
                done.cancel(false); // the listener is shutting down; nobody is left to answer
            }
        };
        holder[0] = purgatory.park(watched, retry);
        ScheduledFuture<?> timer = loop.schedule(() -> {
            if (holder[0].claim()) {
                purgatory.unpark(holder[0]);
                attempt(context, request, deadline, done, parking, finish);
            }
        }, remaining, TimeUnit.NANOSECONDS);
        if (parking.parked(holder[0], timer)) {
            // answered, or cancelled because its connection closed: nothing of it may stay parked or scheduled (a fetch
            // asking to wait 24 days would otherwise hold its timer and purgatory entry that long; found by the fuzzer)
            done.whenComplete((response, error) -> parking.release(purgatory));
        }
        // a commit may have landed between the read and the park: look once more
        for (int i = 0; i < seen.length; i++) {
            if (watched.get(i).highWatermark() + watched.get(i).logEnd() != seen[i] && holder[0].claim()) {
                purgatory.unpark(holder[0]);
                retry.run();
                return;
            }
        }
    }

    private record Result(FetchResponseData response, int bytes, boolean errors) {}

    private Result read(RequestContext context, FetchRequestData request, List<Shard> watched) {
        short version = context.version();
        FetchResponseData response = new FetchResponseData().setSessionId(0);
        int budget = Math.min(fetchMaxBytes, request.maxBytes() > 0 ? request.maxBytes() : Integer.MAX_VALUE);
        int total = 0;
        boolean errors = false;
        int replicaId = version >= REPLICA_STATE_VERSION ? request.replicaState().replicaId() : request.replicaId();
        boolean follower = replicaId >= 0;
        // a replica always reads everything; a read_committed consumer up to the last stable offset (KIP-98)
        boolean readCommitted = !follower && request.isolationLevel() == IsolationLevel.READ_COMMITTED.id();
        // a replica's fetch moves the high watermark and the ISR: only brokers (ClusterAction) may send one
        boolean mayReplicate = !follower || context.allowedOnCluster(AclOperation.CLUSTER_ACTION);
        List<ByteBuf> batches = new ArrayList<>();
        for (FetchRequestData.FetchTopic topic : request.topics()) {
            TopicMeta meta = version >= TOPIC_IDS_VERSION ? logs.catalog().topic(topic.topicId()) : logs.catalog().topic(topic.topic());
            FetchableTopicResponse tr = new FetchableTopicResponse().setTopic(topic.topic()).setTopicId(topic.topicId());
            response.responses().add(tr);
            for (FetchRequestData.FetchPartition p : topic.partitions()) {
                PartitionData pd = new PartitionData().setPartitionIndex(p.partition()).setRecords(MemoryRecords.EMPTY);
                tr.partitions().add(pd);
                String name = meta != null ? meta.name() : topic.topic();
                boolean authorized = follower ? mayReplicate : name == null || name.isEmpty() || context.allowedOnTopic(AclOperation.READ, name);
                if (!authorized) {
                    pd.setErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code()).setHighWatermark(-1).setLastStableOffset(-1).setLogStartOffset(-1);
                    errors = true;
                    continue;
                }
                Shard shard = meta == null ? null : logs.catalog().shard(new TopicPartition(meta.name(), p.partition()));
                if (shard == null) {
                    pd.setErrorCode((meta == null && version >= TOPIC_IDS_VERSION ? Errors.UNKNOWN_TOPIC_ID : Errors.UNKNOWN_TOPIC_OR_PARTITION).code())
                            .setHighWatermark(-1).setLastStableOffset(-1).setLogStartOffset(-1);
                    errors = true;
                    continue;
                }
                Errors refused = follower ? replication.followerFetched(shard, replicaId, p.currentLeaderEpoch(), p.fetchOffset(), p.logStartOffset())
                        : replication.canServeConsumers(shard);
                if (refused == Errors.NONE && !follower) {
                    refused = replication.checkLeaderEpoch(shard, p.currentLeaderEpoch());
                }
                if (refused != Errors.NONE) {
                    pd.setErrorCode(refused.code()).setHighWatermark(-1).setLastStableOffset(-1).setLogStartOffset(-1);
                    errors = true;
                    continue;
                }
                long hw = shard.highWatermark();
                long lastStable = Math.min(shard.lastStableOffset(), hw);
                long readable = follower ? shard.logEnd() : readCommitted ? lastStable : hw;
                long start = shard.logStartOffset();
                pd.setHighWatermark(hw).setLastStableOffset(lastStable).setLogStartOffset(start);
                if (readCommitted) {
                    pd.setAbortedTransactions(new ArrayList<>());
                }
                // out of range only past the log end, as in Kafka: between the high watermark and the log end a
                // consumer gets nothing yet. Right after a leader change the new leader's high watermark trails the
                // old one's; answering OFFSET_OUT_OF_RANGE there made consumers reset to earliest, re-read and commit
                // an offset far behind the one they had committed (found by the soak)
                if (p.fetchOffset() < start || p.fetchOffset() > shard.logEnd()) {
                    pd.setErrorCode(Errors.OFFSET_OUT_OF_RANGE.code());
                    errors = true;
                    continue;
                }
                watched.add(shard);
                boolean throttled = follower && replication.leaderThrottles(shard, replicaId);
                int allowance = throttled ? replication.quotas().leader().allowance() : Integer.MAX_VALUE;
                if (allowance <= 0) {
                    continue; // a reassignment's copy over leader.replication.throttled.rate: nothing this time, it waits as for data
                }
                int limit = Math.min(Math.min(p.partitionMaxBytes(), budget - total), allowance);
                if (limit <= 0 && total > 0) {
                    continue;
                }
                batches.clear();
                int got = logs.reader().read(shard, p.fetchOffset(), readable, Math.max(limit, 0), total == 0, batches);
                if (got > 0) {
                    pd.setRecords(new BatchRecords(batches, got, follower ? null : shard.traffic()));
                    total += got;
                    if (throttled) {
                        replication.quotas().leader().moved(got);
                    }
                    if (readCommitted) {
                        addAbortedTransactions(pd, shard, p.fetchOffset(), batches.get(batches.size() - 1));
                    }
                }
            }
        }
        return new Result(response, total, errors);
    }

    /** The aborted transactions overlapping what was read, which the consumer skips (KIP-98). */
    private void addAbortedTransactions(PartitionData pd, Shard shard, long from, ByteBuf last) {
        long readEnd = last.getLong(last.readerIndex() + BatchHeader.BASE_OFFSET) + last.getInt(last.readerIndex() + BatchHeader.LAST_OFFSET_DELTA) + 1;
        for (AbortedTxn txn : logs.reader().abortedTransactions(shard, from, readEnd)) {
            pd.abortedTransactions().add(new FetchResponseData.AbortedTransaction().setProducerId(txn.producerId()).setFirstOffset(txn.firstOffset()));
        }
    }
}
