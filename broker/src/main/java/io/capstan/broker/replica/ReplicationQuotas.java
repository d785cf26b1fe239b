package io.capstan.broker.replica;

import io.capstan.broker.log.TopicMeta;
import io.capstan.broker.quota.SampledRate;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Kafka's replication throttle (KIP-73), which kafka-reassign-partitions --throttle sets so that copying a moved
 * replica does not starve producers: a leader sends at most {@code leader.replication.throttled.rate} bytes a second
 * to out-of-sync followers of the replicas its topic's {@code leader.replication.throttled.replicas} names, and a
 * follower out of sync fetches at most {@code follower.replication.throttled.rate} for those
 * {@code follower.replication.throttled.replicas} names. In-sync replicas are never throttled. Each rate is measured
 * as Kafka's quota sensors do (11 samples of 1 s); over it, the throttled replicas get nothing until it falls back.
 * The rates are read on each use: they change live.
 */
public final class ReplicationQuotas {
    private static final int SAMPLES = 11;
    private static final long SAMPLE_MS = 1_000;

    private final Side leader;
    private final Side follower;
    private final Map<String, ThrottledReplicas> parsed = new ConcurrentHashMap<>();

    public ReplicationQuotas(LongSupplier leaderRate, LongSupplier followerRate, LongSupplier clockMs) {
        this.leader = new Side("leader.replication.throttled.replicas", leaderRate, clockMs);
        this.follower = new Side("follower.replication.throttled.replicas", followerRate, clockMs);
    }

    public Side leader() {
        return leader;
    }

    public Side follower() {
        return follower;
    }

    /** A topic's list as set (null or empty: none), parsed once per distinct value. */
    private ThrottledReplicas replicas(String value) {
        if (value == null || value.isEmpty()) {
            return ThrottledReplicas.NONE;
        }
        return parsed.computeIfAbsent(value, v -> {
            try {
                return ThrottledReplicas.parse(v);
            } catch (IllegalArgumentException e) {
                return ThrottledReplicas.NONE; // refused when set; a value that got past that throttles nothing
            }
        });
    }

    /** One side: the topic config naming its replicas, and its rate: what they moved and what they may move now. */
    public final class Side {
        private final String replicasKey;
        private final LongSupplier rate;
        private final LongSupplier clockMs;
        private final SampledRate window;

        Side(String replicasKey, LongSupplier rate, LongSupplier clockMs) {
            this.replicasKey = replicasKey;
            this.rate = rate;
            this.clockMs = clockMs;
            this.window = new SampledRate(SAMPLES, SAMPLE_MS, clockMs.getAsLong());
        }

        /** Whether the topic's list for this side names the replica of {@code partition} on {@code broker}. */
        public boolean names(TopicMeta topic, int partition, int broker) {
            return topic != null && replicas(topic.configs().get(replicasKey)).includes(partition, broker);
        }

        /**
         * Bytes throttled replicas may still move now without going over the rate (Integer.MAX_VALUE when unlimited):
         * a fetch asks for, or is answered with, at most this much, so one large fetch cannot take the whole copy at
         * once (beyond one batch, which is always whole).
         */
        public int allowance() {
            long bound = rate.getAsLong();
            if (bound == Long.MAX_VALUE) {
                return Integer.MAX_VALUE;
            }
            double left = window.headroom(bound, clockMs.getAsLong());
            return left <= 0 ? 0 : (int) Math.min(Integer.MAX_VALUE, (long) left);
        }

        /** Bytes a throttled replica moved. */
        public void moved(long bytes) {
            window.record(bytes, rate.getAsLong(), clockMs.getAsLong());
        }
    }
}
