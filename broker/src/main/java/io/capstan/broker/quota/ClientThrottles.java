package io.capstan.broker.quota;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Kafka's client quotas: what a client produces (request bytes), fetches (response bytes) and costs the broker's
 * threads (request time, in percent of one thread) is measured against the quota that applies to its user and client
 * id; a client over it is told how long to wait (throttle_time_ms) and its connection reads nothing for that long.
 * Clients sharing the entity a quota came from share its rate, as in Kafka (a {@code <default>} user quota measures
 * each user on their own). A client no quota applies to costs one lookup: nothing is measured. A byte-rate delay is at
 * most the whole window (quota.window.num × quota.window.size.seconds), a request-time delay one sample, as in Kafka.
 */
public final class ClientThrottles {
    public static final String PRODUCER_BYTE_RATE = "producer_byte_rate";
    public static final String CONSUMER_BYTE_RATE = "consumer_byte_rate";
    public static final String REQUEST_PERCENTAGE = "request_percentage";
    /** Thread time in the unit request_percentage is measured in: percent of one thread, per second. */
    private static final double PERCENT_PER_NANO = 100.0 / 1_000_000_000L;
    /** A client silent this long loses its measured rate (Kafka expires quota sensors after an hour). */
    private static final long IDLE_EXPIRY_MS = 3_600_000;

    private record Key(String quota, String user, String clientId) {}

    private final ClientQuotaStore quotas;
    private final LongSupplier clock;
    private final int samples;
    private final long sampleMs;
    private final Map<Key, SampledRate> rates = new ConcurrentHashMap<>();
    private long nextExpiryMs;

    /** {@code samples} of {@code sampleMs}: the window rates are measured over (quota.window.num, quota.window.size.seconds). */
    public ClientThrottles(ClientQuotaStore quotas, LongSupplier clock, int samples, long sampleMs) {
        this.quotas = quotas;
        this.clock = clock;
        this.samples = samples;
        this.sampleMs = sampleMs;
    }

    /** Records {@code bytes} of {@code quota} (a *_byte_rate key) for this client; returns the throttle in ms (0: none). */
    public long record(String quota, String user, String clientId, long bytes) {
        // bounded by the window, so one huge request cannot silence a connection for minutes (decision 0017)
        return record(quota, user, clientId, bytes, samples * sampleMs);
    }

    /** Records {@code nanos} of broker thread time spent on one of this client's requests; returns the throttle in ms. */
    public long recordRequestTime(String user, String clientId, long nanos) {
        return record(REQUEST_PERCENTAGE, user, clientId, nanos * PERCENT_PER_NANO, sampleMs);
    }

    private long record(String quota, String user, String clientId, double amount, long maxDelayMs) {
        Optional<ClientQuotaStore.Applied> applied = quotas.applied(quota, user, clientId);
        if (applied.isEmpty()) {
            return 0;
        }
        long now = clock.getAsLong();
        expireIdle(now);
        SampledRate rate = rates.computeIfAbsent(key(quota, applied.get().from(), user, clientId), k -> new SampledRate(samples, sampleMs, now));
        return Math.min(rate.record(amount, applied.get().limit(), now), maxDelayMs);
    }

    /** Takes back bytes recorded for a response that was not sent after all (a throttled fetch answers empty). */
    public void unrecord(String quota, String user, String clientId, long bytes) {
        quotas.applied(quota, user, clientId).ifPresent(a -> {
            SampledRate rate = rates.get(key(quota, a.from(), user, clientId));
            if (rate != null) {
                rate.record(-bytes, a.limit(), clock.getAsLong());
            }
        });
    }

    /** The rate is shared by every client the matched entity covers: its named parts, and each client on a default part. */
    private static Key key(String quota, QuotaEntity from, String user, String clientId) {
        return new Key(quota, from.user() == null ? "" : user, from.clientId() == null ? "" : clientId);
    }

    private void expireIdle(long now) {
        if (now < nextExpiryMs) {
            return;
        }
        nextExpiryMs = now + 60_000;
        rates.values().removeIf(r -> now - r.lastRecordMs() > IDLE_EXPIRY_MS);
    }
}
