package io.capstan.broker.security;

import io.capstan.cluster.metadata.ConflictException;
import io.capstan.cluster.metadata.MetadataCodec;
import io.capstan.cluster.metadata.MetadataStore;
import io.capstan.cluster.metadata.Versioned;
import io.capstan.cluster.metadata.MetadataCache;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;

/**
 * Kafka ACLs in the cluster's metadata store, one key per ACL ({@code security/acls/<digest of the ACL>}, so creating
 * the same ACL twice is idempotent). Every broker holds a copy fed by a watch, which the authorizer reads without
 * touching the store.
 */
public final class AclStore implements AutoCloseable {
    static final String PREFIX = "security/acls/";

    /** An ACL as stored: Kafka's enum names, readable in a ConfigMap. */
    public record StoredAcl(String resourceType, String name, String patternType, String principal, String host,
                            String operation, String permission) {
        static StoredAcl of(AclBinding b) {
            return new StoredAcl(b.pattern().resourceType().name(), b.pattern().name(), b.pattern().patternType().name(),
                    b.entry().principal(), b.entry().host(), b.entry().operation().name(), b.entry().permissionType().name());
        }

        AclBinding binding() {
            return new AclBinding(new ResourcePattern(ResourceType.valueOf(resourceType), name, PatternType.valueOf(patternType)),
                    new AccessControlEntry(principal, host, AclOperation.valueOf(operation), AclPermissionType.valueOf(permission)));
        }
    }

    private final MetadataStore store;
    private final io.capstan.cluster.metadata.NewestWins<String, AclBinding> acls = new io.capstan.cluster.metadata.NewestWins<>();
    /** The same ACLs grouped by resource type, rebuilt on each (rare) change so a check scans only its own type. */
    private volatile Map<ResourceType, List<AclBinding>> byType = Map.of();
    private final AutoCloseable watch;

    /** Follows the ACLs through the broker's metadata cache; changes go to the cache's store. */
    public AclStore(MetadataCache cache) {
        this.store = cache.store();
        this.watch = cache.subscribe(PREFIX, this::apply);
    }

    private void apply(MetadataCache.Change change) {
        if (change.isDelete()) {
            acls.remove(change.key(), change.before().version());
        } else {
            acls.put(change.key(), change.after().version(), MetadataCodec.decode(change.after().value(), StoredAcl.class).binding());
        }
        regroup();
    }

    private synchronized void regroup() {
        Map<ResourceType, List<AclBinding>> grouped = new EnumMap<>(ResourceType.class);
        acls.values().forEach(b -> grouped.computeIfAbsent(b.pattern().resourceType(), t -> new ArrayList<>()).add(b));
        grouped.replaceAll((t, list) -> List.copyOf(list));
        byType = grouped;
    }

    /** The ACLs on resources of this type that this broker knows now (kept current by the watch). */
    public List<AclBinding> of(ResourceType type) {
        return byType.getOrDefault(type, List.of());
    }

    public void create(AclBinding binding) {
        String key = key(binding);
        try {
            // this broker enforces it at once (unless its watch already brought a newer write); the others when their watch delivers it
            acls.put(key, store.create(key, MetadataCodec.encode(StoredAcl.of(binding))), binding);
            regroup();
        } catch (ConflictException exists) {
            // the same ACL again: nothing to do, as in Kafka
        }
    }

    /** Deletes every stored ACL the filter matches and returns them. */
    public List<AclBinding> delete(AclBindingFilter filter) {
        List<AclBinding> deleted = new ArrayList<>();
        for (Versioned v : store.list(PREFIX).values()) {
            AclBinding binding = MetadataCodec.decode(v.value(), StoredAcl.class).binding();
            if (filter.matches(binding)) {
                try {
                    store.delete(v.key(), v.version());
                    acls.remove(v.key(), v.version());
                    regroup();
                    deleted.add(binding);
                } catch (ConflictException gone) {
                    // deleted by someone else meanwhile
                }
            }
        }
        return deleted;
    }

    /** Every stored ACL the filter matches, read from the store itself. */
    public List<AclBinding> describe(AclBindingFilter filter) {
        List<AclBinding> out = new ArrayList<>();
        for (Versioned v : store.list(PREFIX).values()) {
            AclBinding binding = MetadataCodec.decode(v.value(), StoredAcl.class).binding();
            if (filter.matches(binding)) {
                out.add(binding);
            }
        }
        return out;
    }

    private static String key(AclBinding binding) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(MetadataCodec.encode(StoredAcl.of(binding)));
            return PREFIX + HexFormat.of().formatHex(digest, 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        try {
            watch.close();
        } catch (Exception e) {
            // nothing to report
        }
    }
}
