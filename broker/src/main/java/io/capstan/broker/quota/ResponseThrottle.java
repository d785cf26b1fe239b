package io.capstan.broker.quota;

import io.netty.util.ReferenceCountUtil;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.record.internal.BaseRecords;
import org.apache.kafka.common.record.internal.MemoryRecords;

/**
 * Applies the client quotas to a request and its response as Kafka does: a Produce counts its request bytes and is
 * answered as usual with throttle_time_ms set; a consumer's Fetch counts its response bytes and, when that puts the
 * client over its quota, is answered with no records (they are not counted) and the throttle time. Every request
 * counts the broker thread time it took against request_percentage, and the larger of the two delays is the one the
 * client is told and the connection waits. Replica fetches are not client traffic and are never throttled.
 */
public final class ResponseThrottle {
    private static final short REPLICA_STATE_VERSION = 15;

    private final ClientThrottles throttles;

    public ResponseThrottle(ClientThrottles throttles) {
        this.throttles = throttles;
    }

    /**
     * Returns how long the connection must stay unread, in ms (0: not throttled), and sets the response's throttle time;
     * {@code threadNanos} is the broker thread time the request took.
     */
    public long apply(ApiKeys api, short version, String user, String clientId, int requestBytes, long threadNanos, ApiMessage request,
                      ApiMessage response) {
        if (api == ApiKeys.FETCH && fromReplica((FetchRequestData) request, version)) {
            return 0;
        }
        long ms = Math.max(throttles.recordRequestTime(user, clientId, threadNanos), applyByteRate(api, user, clientId, requestBytes, response));
        if (ms > 0) {
            ThrottleTimeField.raise(response, ms);
        }
        return ms;
    }

    /** Records the bytes a Produce or a consumer's Fetch moved; a throttled fetch loses its records. Returns the delay. */

    private long applyByteRate(ApiKeys api, String user, String clientId, int requestBytes, ApiMessage response) {
        if (api == ApiKeys.PRODUCE) {
            return throttles.record(ClientThrottles.PRODUCER_BYTE_RATE, user, clientId, requestBytes);
        }
        if (api == ApiKeys.FETCH && response instanceof FetchResponseData fetch) {
            long bytes = recordBytes(fetch);
            long ms = throttles.record(ClientThrottles.CONSUMER_BYTE_RATE, user, clientId, bytes);
            if (ms > 0) {
                throttles.unrecord(ClientThrottles.CONSUMER_BYTE_RATE, user, clientId, bytes);
                fetch.responses().forEach(t -> t.partitions().forEach(p -> {
                    ReferenceCountUtil.release(p.records()); // the log's buffers it held go back now
                    p.setRecords(MemoryRecords.EMPTY);
                }));
            }
            return ms;
        }
        return 0;
    }

    private static boolean fromReplica(FetchRequestData request, short version) {
        return (version >= REPLICA_STATE_VERSION ? request.replicaState().replicaId() : request.replicaId()) >= 0;
    }

    private static long recordBytes(FetchResponseData fetch) {
        long bytes = 0;
        for (FetchResponseData.FetchableTopicResponse t : fetch.responses()) {
            for (FetchResponseData.PartitionData p : t.partitions()) {
                BaseRecords records = p.records();
                bytes += records == null ? 0 : records.sizeInBytes();
            }
        }
        return bytes;
    }
}
