package io.capstan.cluster.metadata;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves shard states from the layout before 0.2 (one object per shard under {@code shards/}) into groups
 * ({@link ShardStore}). Run by the controller when it starts; safe to run again, including after a crash half way: a
 * group that exists already is the truth and the old objects of its shards are only removed. Brokers of the old layout
 * must be stopped first (an offline migration, docs/decisions/0011): they would go on writing the old objects.
 */
public final class ShardLayoutMigration {
    private static final Logger log = LoggerFactory.getLogger(ShardLayoutMigration.class);
    static final String OLD_PREFIX = "shards/";

    private ShardLayoutMigration() {}

    /** Returns how many old shard objects were moved. */
    public static int run(MetadataStore store) {
        Map<String, Versioned> old = store.list(OLD_PREFIX);
        if (old.isEmpty()) {
            return 0;
        }
        log.info("moving {} shard states from one object each into groups of {} ({})", old.size(), ShardStore.GROUP_SIZE,
                "docs/decisions/0011");
        Map<String, List<Versioned>> byGroup = new LinkedHashMap<>();
        for (Versioned v : old.values()) {
            ShardState s = MetadataCodec.decode(v.value(), ShardState.class);
            byGroup.computeIfAbsent(ShardStore.groupKey(s.topic(), s.partition()), k -> new ArrayList<>()).add(v);
        }
        for (Map.Entry<String, List<Versioned>> group : byGroup.entrySet()) {
            if (store.get(group.getKey()).isEmpty()) {
                List<VersionedShard> states = group.getValue().stream()
                        .map(v -> new VersionedShard(MetadataCodec.decode(v.value(), ShardState.class), 1)).toList();
                try {
                    store.create(group.getKey(), MetadataCodec.encode(new ShardGroup(states.get(0).state().topic(),
                            states.get(0).state().partition() / ShardStore.GROUP_SIZE, states)));
                } catch (ConflictException raced) {
                    // another controller made it first: that group is the truth
                }
            }
            for (Versioned v : group.getValue()) {
                try {
                    store.delete(v.key(), v.version());
                } catch (ConflictException changed) {
                    log.warn("{} changed while moving it (is a broker of the old layout still running?); stop such brokers "
                            + "and restart the controller to move it again", v.key());
                }
            }
        }
        return old.size();
    }
}
