package io.capstan.broker.log;

import java.util.concurrent.atomic.LongAdder;

/**
 * The bytes a shard's clients moved through this broker since it started: batches producers appended here (as the
 * leader; replication is not counted, as in Kafka's BytesInPerSec) and record bytes read by consumers (not followers).
 * Their rates are the observed load the rebalance planner evens out (decision 0030).
 */
public final class ShardTraffic {
    private final LongAdder bytesIn = new LongAdder();
    private final LongAdder bytesOut = new LongAdder();

    /** A producer's batch appended (the produce handler, once the log has taken it). */
    public void produced(int bytes) {
        bytesIn.add(bytes);
    }

    /** Record bytes sent to a consumer in a fetch answer (any event loop; not what a quota dropped). */
    public void consumed(int bytes) {
        bytesOut.add(bytes);
    }

    public long bytesIn() {
        return bytesIn.sum();
    }

    public long bytesOut() {
        return bytesOut.sum();
    }
}
