package io.capstan.operator.users;

import io.capstan.operator.api.CapstanUserSpec;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;

/** A user's spec.acls as Kafka ACL bindings, and what must change to make the cluster's ACLs match them. Pure. */
public final class AclRules {
    private AclRules() {}

    public static String principal(String username) {
        return "User:" + username;
    }

    public static Set<AclBinding> bindings(String username, List<CapstanUserSpec.Acl> acls) {
        Set<AclBinding> out = new LinkedHashSet<>();
        for (CapstanUserSpec.Acl acl : acls == null ? List.<CapstanUserSpec.Acl>of() : acls) {
            ResourcePattern pattern = pattern(acl.resource);
            AclPermissionType permission = "deny".equals(acl.type) ? AclPermissionType.DENY : AclPermissionType.ALLOW;
            for (String operation : acl.operations) {
                out.add(new AclBinding(pattern, new AccessControlEntry(principal(username), acl.host == null ? "*" : acl.host,
                        operation(operation), permission)));
            }
        }
        return out;
    }

    /** What to create and what to delete so that {@code existing} becomes {@code desired}. */
    public record Changes(Set<AclBinding> create, Set<AclBinding> delete) {
        public boolean none() {
            return create.isEmpty() && delete.isEmpty();
        }
    }

    public static Changes diff(Set<AclBinding> desired, Collection<AclBinding> existing) {
        Set<AclBinding> create = new LinkedHashSet<>(desired);
        existing.forEach(create::remove);
        Set<AclBinding> delete = new LinkedHashSet<>(existing);
        delete.removeAll(desired);
        return new Changes(Set.copyOf(create), Set.copyOf(delete));
    }

    static ResourcePattern pattern(CapstanUserSpec.AclResource r) {
        ResourceType type = switch (r.type) {
            case "topic" -> ResourceType.TOPIC;
            case "group" -> ResourceType.GROUP;
            case "cluster" -> ResourceType.CLUSTER;
            case "transactionalId" -> ResourceType.TRANSACTIONAL_ID;
            default -> throw new IllegalArgumentException("resource type " + r.type + " is not one of topic, group, cluster, transactionalId");
        };
        String name = type == ResourceType.CLUSTER ? "kafka-cluster" : r.name;
        PatternType patternType = "prefix".equals(r.patternType) ? PatternType.PREFIXED : PatternType.LITERAL;
        return new ResourcePattern(type, name, patternType);
    }

    static AclOperation operation(String name) {
        String constant = name.replaceAll("([a-z])([A-Z])", "$1_$2").toUpperCase(Locale.ROOT);
        try {
            return AclOperation.valueOf(constant);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("ACL operation " + name + " is not a Kafka operation (Read, Write, Describe, ...)");
        }
    }
}
