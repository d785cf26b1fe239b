package io.capstan.broker.config;

import io.capstan.cluster.metadata.ConflictException;
import io.capstan.cluster.metadata.MetadataCache;
import io.capstan.cluster.metadata.MetadataCodec;
import io.capstan.cluster.metadata.MetadataStore;
import io.capstan.cluster.metadata.Versioned;
import io.capstan.config.ConfigException;
import io.capstan.config.DynamicSettings;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Dynamic broker configs in the cluster's metadata store, as Kafka keeps them: one key for the cluster default
 * ({@code configs/broker/default}, Kafka's entity "") and one per broker ({@code configs/broker/<id>}). Every broker
 * watches them and re-layers its {@link CurrentConfig} when its own or the default changes, so a value set through any
 * broker applies everywhere within one watch delivery and survives restarts.
 */
public final class DynamicConfigStore implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(DynamicConfigStore.class);
    static final String PREFIX = "configs/broker/";
    private static final String CLUSTER_DEFAULT = "default";

    /** One entity's settings as stored; {@code broker} null for the cluster default. */
    public record Stored(Integer broker, Map<String, String> values) {}

    /** An entity's settings and the version they were read at (0: nothing stored). */
    public record Read(Map<String, String> values, long version) {}

    private final MetadataStore store;
    private final int me;
    private final Map<String, String> started;
    private final CurrentConfig current;
    /** The cluster default's and this broker's settings by store key, as this broker's watch last delivered them. */
    private final Map<String, Map<String, String>> entities = new ConcurrentHashMap<>();
    private final AutoCloseable watch;

    /** {@code started}: the settings of the broker's properties file, which the dynamic ones overlay. */
    public DynamicConfigStore(MetadataCache cache, int me, Map<String, String> started, CurrentConfig current) {
        this.store = cache.store();
        this.me = me;
        this.started = Map.copyOf(started);
        this.current = current;
        this.watch = cache.subscribe(PREFIX, this::apply);
    }

    private void apply(MetadataCache.Change change) {
        if (!change.key().equals(key(null)) && !change.key().equals(key(me))) {
            return; // another broker's own settings: not layered here
        }
        if (change.isDelete()) {
            entities.remove(change.key());
        } else {
            entities.put(change.key(), Map.copyOf(MetadataCodec.decode(change.after().value(), Stored.class).values()));
        }
        relayer();
    }

    private synchronized void relayer() {
        try {
            current.set(DynamicSettings.effective(started, clusterDefaults(), ofThisBroker()));
            log.info("broker {}: dynamic configs now {} (cluster default) and {} (this broker)", me, clusterDefaults(), ofThisBroker());
        } catch (ConfigException e) {
            // written through another broker whose own settings made them valid: keep the last good configuration
            log.error("broker {}: dynamic broker configs not applied, the broker keeps its previous settings: {}. Fix them with"
                    + " kafka-configs --alter --entity-type brokers (--entity-default or --entity-name {}) --delete-config", me, e.getMessage(), me);
        }
    }

    /** The cluster's default dynamic settings (Kafka's DYNAMIC_DEFAULT_BROKER_CONFIG), as this broker's watch has them. */
    public Map<String, String> clusterDefaults() {
        return entities.getOrDefault(key(null), Map.of());
    }

    /** This broker's own dynamic settings (Kafka's DYNAMIC_BROKER_CONFIG), as its watch has them. */
    public Map<String, String> ofThisBroker() {
        return entities.getOrDefault(key(me), Map.of());
    }

    /** The settings of the broker's properties file. */
    public Map<String, String> started() {
        return started;
    }

    public int brokerId() {
        return me;
    }

    /** An entity's settings read from the store itself, for a compare-and-set. {@code broker} null: the cluster default. */
    public Read read(Integer broker) {
        Optional<Versioned> v = store.get(key(broker));
        return v.map(x -> new Read(MetadataCodec.decode(x.value(), Stored.class).values(), x.version())).orElse(new Read(Map.of(), 0));
    }

    /**
     * What is wrong with giving the entity these settings, as this broker would layer them (null: nothing): a value out
     * of range, or one the other settings contradict.
     */
    public String problem(Integer broker, Map<String, String> values) {
        try {
            DynamicSettings.effective(started, broker == null ? values : clusterDefaults(), broker == null ? ofThisBroker() : values);
            return null;
        } catch (ConfigException e) {
            return e.getMessage();
        }
    }

    /**
     * Replaces the entity's settings if they are still at {@code version} (0: none stored); false when another writer
     * got there first. This broker applies them at once, the others when their watch delivers them.
     */
    public boolean write(Integer broker, Map<String, String> values, long version) {
        String key = key(broker);
        byte[] value = MetadataCodec.encode(new Stored(broker, new TreeMap<>(values)));
        try {
            if (version == 0) {
                if (!values.isEmpty()) {
                    store.create(key, value);
                }
            } else if (values.isEmpty()) {
                store.delete(key, version);
            } else {
                store.compareAndSet(key, version, value);
            }
        } catch (ConflictException lost) {
            return false;
        }
        if (values.isEmpty()) {
            entities.remove(key);
        } else {
            entities.put(key, Map.copyOf(values));
        }
        relayer();
        return true;
    }

    static String key(Integer broker) {
        return PREFIX + (broker == null ? CLUSTER_DEFAULT : broker.toString());
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
