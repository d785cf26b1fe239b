package io.capstan.broker.kafka;

import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.resource.ResourceType;

/**
 * The authorized-operations bit field of Metadata, DescribeCluster and DescribeGroups (KIP-430): bit {@code code} set
 * for each operation the caller may do on the resource, among those that apply to its type.
 */
public final class AuthorizedOperations {
    /** What Kafka's clients expect when the field was not asked for. */
    public static final int NOT_REQUESTED = Integer.MIN_VALUE;

    private static final Map<ResourceType, Set<AclOperation>> APPLICABLE = Map.of(
            ResourceType.TOPIC, EnumSet.of(AclOperation.READ, AclOperation.WRITE, AclOperation.CREATE, AclOperation.DELETE,
                    AclOperation.ALTER, AclOperation.DESCRIBE, AclOperation.DESCRIBE_CONFIGS, AclOperation.ALTER_CONFIGS),
            ResourceType.GROUP, EnumSet.of(AclOperation.READ, AclOperation.DESCRIBE, AclOperation.DELETE,
                    AclOperation.DESCRIBE_CONFIGS, AclOperation.ALTER_CONFIGS),
            ResourceType.CLUSTER, EnumSet.of(AclOperation.CREATE, AclOperation.CLUSTER_ACTION, AclOperation.DESCRIBE_CONFIGS,
                    AclOperation.ALTER_CONFIGS, AclOperation.IDEMPOTENT_WRITE, AclOperation.ALTER, AclOperation.DESCRIBE));

    private AuthorizedOperations() {}

    public static int of(RequestContext context, ResourceType type, String name) {
        int bits = 0;
        for (AclOperation op : APPLICABLE.get(type)) {
            if (context.allowed(op, type, name)) {
                bits |= 1 << op.code();
            }
        }
        return bits;
    }
}
