package io.capstan.broker.quota;

import io.capstan.cluster.metadata.ConflictException;
import io.capstan.cluster.metadata.MetadataCache;
import io.capstan.cluster.metadata.MetadataCodec;
import io.capstan.cluster.metadata.MetadataStore;
import io.capstan.cluster.metadata.Versioned;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Client quotas in the cluster's metadata store, one key per entity ({@code quotas/client/<SHA-256 of the entity>}), and
 * every broker's copy of them, fed by its metadata cache: a quota set through any broker applies on every broker
 * within one watch delivery. Resolves which quota applies to a user and client id in Kafka's order of precedence.
 */
public final class ClientQuotaStore implements AutoCloseable {
    static final String PREFIX = "quotas/client/";

    /** One entity's quotas as stored: quota key (producer_byte_rate, ...) to its value. */
    public record Stored(QuotaEntity entity, Map<String, Double> values) {}

    /** The quota that applies to a client and the entity it came from, whose clients share one measured rate. */
    public record Applied(double limit, QuotaEntity from) {}

    private final MetadataStore store;
    private final io.capstan.cluster.metadata.NewestWins<QuotaEntity, Map<String, Double>> quotas = new io.capstan.cluster.metadata.NewestWins<>();
    /** The quota keys some entity sets: a request checks a key nobody set without resolving anything. */
    private volatile java.util.Set<String> keysSet = java.util.Set.of();
    private final AutoCloseable watch;

    public ClientQuotaStore(MetadataCache cache) {
        this.store = cache.store();
        this.watch = cache.subscribe(PREFIX, this::apply);
    }

    private void apply(MetadataCache.Change change) {
        if (change.isDelete()) {
            quotas.remove(MetadataCodec.decode(change.before().value(), Stored.class).entity(), change.before().version());
        } else {
            Stored s = MetadataCodec.decode(change.after().value(), Stored.class);
            quotas.put(s.entity(), change.after().version(), Map.copyOf(s.values()));
        }
        keysChanged();
    }

    private synchronized void keysChanged() {
        keysSet = quotas.values().stream().flatMap(v -> v.keySet().stream()).collect(java.util.stream.Collectors.toUnmodifiableSet());
    }

    /**
     * The quota {@code key} for this user and client id, from the most specific entity that sets it, in Kafka's order:
     * user and client id, user and default client, user, default user and client id, default user and default client,
     * default user, client id, default client. Empty when none does.
     */
    public Optional<Applied> applied(String key, String user, String clientId) {
        if (!keysSet.contains(key)) {
            return Optional.empty();
        }
        QuotaEntity.Name u = new QuotaEntity.Name(user);
        QuotaEntity.Name c = new QuotaEntity.Name(clientId);
        QuotaEntity.Name d = QuotaEntity.Name.DEFAULT;
        QuotaEntity[] order = {
            new QuotaEntity(u, c), new QuotaEntity(u, d), new QuotaEntity(u, null),
            new QuotaEntity(d, c), new QuotaEntity(d, d), new QuotaEntity(d, null),
            new QuotaEntity(null, c), new QuotaEntity(null, d),
        };
        for (QuotaEntity candidate : order) {
            Map<String, Double> values = quotas.get(candidate);
            Double limit = values == null ? null : values.get(key);
            if (limit != null) {
                return Optional.of(new Applied(limit, candidate));
            }
        }
        return Optional.empty();
    }

    /** Every entity's quotas, read from the store itself (not the cache): what was written is what is described. */
    public Map<QuotaEntity, Map<String, Double>> describe() {
        Map<QuotaEntity, Map<String, Double>> out = new LinkedHashMap<>();
        for (Versioned v : store.list(PREFIX).values()) {
            Stored s = MetadataCodec.decode(v.value(), Stored.class);
            out.put(s.entity(), new TreeMap<>(s.values()));
        }
        return out;
    }

    /** Sets (a value) or removes (null) each of {@code changes} for one entity, by compare-and-set. */
    public void alter(QuotaEntity entity, Map<String, Double> changes) {
        String key = key(entity);
        for (int attempt = 0; attempt < 100; attempt++) {
            Optional<Versioned> current = store.get(key);
            Map<String, Double> values = new HashMap<>(current.map(v -> MetadataCodec.decode(v.value(), Stored.class).values()).orElse(Map.of()));
            changes.forEach((k, v) -> {
                if (v == null) {
                    values.remove(k);
                } else {
                    values.put(k, v);
                }
            });
            byte[] value = MetadataCodec.encode(new Stored(entity, values));
            try {
                // this broker applies the change at once (unless its watch already brought a newer one); the others
                // when their watch delivers it
                if (current.isEmpty()) {
                    if (!values.isEmpty()) {
                        quotas.put(entity, store.create(key, value), Map.copyOf(values));
                    }
                } else if (values.isEmpty()) {
                    store.delete(key, current.get().version());
                    quotas.remove(entity, current.get().version());
                } else {
                    quotas.put(entity, store.compareAndSet(key, current.get().version(), value), Map.copyOf(values));
                }
                keysChanged();
                return;
            } catch (ConflictException lost) {
                Thread.onSpinWait(); // another writer changed this entity: read again
            }
        }
        throw new IllegalStateException("gave up changing the quotas of " + entity + " after 100 lost races");
    }

    /** A digest of the entity, not its names: a client id may be longer than a file or object name may be. */
    static String key(QuotaEntity entity) {
        try {
            byte[] digest = java.security.MessageDigest.getInstance("SHA-256").digest(entity.canonical().getBytes(StandardCharsets.UTF_8));
            return PREFIX + HexFormat.of().formatHex(digest);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }

    @Override
    public void close() {
        try {
            watch.close();
        } catch (Exception e) {
            // closing a watch has nothing to report
        }
    }
}
