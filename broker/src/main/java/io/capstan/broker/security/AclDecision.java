package io.capstan.broker.security;

import java.util.Collection;
import java.util.Set;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.security.auth.KafkaPrincipal;

/**
 * Kafka's ACL rule, as a pure function: super users may do anything; otherwise a matching DENY wins, then a matching
 * ALLOW; with no ACL on the resource at all, {@code allow.everyone.if.no.acl.found} decides. An ACL matches when its
 * pattern covers the resource (a literal name, the literal wildcard {@code *}, or a prefix), its principal is the
 * caller's or {@code User:*}, its host is the caller's or {@code *}, and its operation is the one asked, ALL, or (for
 * an ALLOW) one that implies it: READ, WRITE, DELETE and ALTER imply DESCRIBE; ALTER_CONFIGS implies DESCRIBE_CONFIGS.
 */
public final class AclDecision {
    private AclDecision() {}

    /** One question to the authorizer. */
    public record Request(KafkaPrincipal principal, String host, AclOperation operation, ResourceType type, String name) {}

    public static boolean authorize(Collection<AclBinding> acls, Set<String> superUsers, boolean allowIfNoAcl, Request r) {
        if (superUsers.contains(r.principal().toString())) {
            return true;
        }
        boolean anyOnResource = false;
        boolean allowed = false;
        for (AclBinding acl : acls) {
            if (!covers(acl.pattern(), r.type(), r.name())) {
                continue;
            }
            anyOnResource = true;
            if (!principalMatches(acl.entry().principal(), r.principal()) || !hostMatches(acl.entry().host(), r.host())) {
                continue;
            }
            AclOperation op = acl.entry().operation();
            if (acl.entry().permissionType() == AclPermissionType.DENY) {
                if (op == AclOperation.ALL || op == r.operation()) {
                    return false;
                }
            } else if (acl.entry().permissionType() == AclPermissionType.ALLOW && (op == AclOperation.ALL || op == r.operation() || implies(op, r.operation()))) {
                allowed = true;
            }
        }
        return allowed || (!anyOnResource && allowIfNoAcl);
    }

    /**
     * Whether some resource of the type may be acted on: an ALLOW for the operation (or ALL) matching the caller, not
     * cancelled by a DENY of the operation on every resource of the type (the literal wildcard or an empty prefix). A
     * DENY on some names only leaves other names allowed. {@code request.name()} is ignored.
     */
    public static boolean authorizeAny(Collection<AclBinding> acls, Set<String> superUsers, boolean allowIfNoAcl, Request r) {
        if (superUsers.contains(r.principal().toString())) {
            return true;
        }
        boolean anyOfType = false;
        boolean allowed = false;
        for (AclBinding acl : acls) {
            if (acl.pattern().resourceType() != r.type()) {
                continue;
            }
            anyOfType = true;
            if (!principalMatches(acl.entry().principal(), r.principal()) || !hostMatches(acl.entry().host(), r.host())) {
                continue;
            }
            AclOperation op = acl.entry().operation();
            boolean opMatches = op == AclOperation.ALL || op == r.operation();
            if (acl.entry().permissionType() == AclPermissionType.DENY && opMatches && coversEverything(acl.pattern())) {
                return false;
            }
            if (acl.entry().permissionType() == AclPermissionType.ALLOW && opMatches) {
                allowed = true;
            }
        }
        return allowed || (!anyOfType && allowIfNoAcl);
    }

    private static boolean coversEverything(ResourcePattern pattern) {
        return (pattern.patternType() == PatternType.LITERAL && pattern.name().equals(ResourcePattern.WILDCARD_RESOURCE))
                || (pattern.patternType() == PatternType.PREFIXED && pattern.name().isEmpty());
    }

    static boolean covers(ResourcePattern pattern, ResourceType type, String name) {
        if (pattern.resourceType() != type) {
            return false;
        }
        if (pattern.patternType() == PatternType.LITERAL) {
            return pattern.name().equals(ResourcePattern.WILDCARD_RESOURCE) || pattern.name().equals(name);
        }
        return pattern.patternType() == PatternType.PREFIXED && name.startsWith(pattern.name());
    }

    private static boolean principalMatches(String aclPrincipal, KafkaPrincipal principal) {
        return aclPrincipal.equals("User:*") || aclPrincipal.equals(principal.toString());
    }

    private static boolean hostMatches(String aclHost, String host) {
        return aclHost.equals("*") || aclHost.equals(host);
    }

    private static boolean implies(AclOperation granted, AclOperation asked) {
        return switch (asked) {
            case DESCRIBE -> granted == AclOperation.READ || granted == AclOperation.WRITE || granted == AclOperation.DELETE
                    || granted == AclOperation.ALTER;
            case DESCRIBE_CONFIGS -> granted == AclOperation.ALTER_CONFIGS;
            default -> false;
        };
    }
}
