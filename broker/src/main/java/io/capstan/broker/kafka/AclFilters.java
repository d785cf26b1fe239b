package io.capstan.broker.kafka;

import io.capstan.broker.security.Authorizer;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AccessControlEntryFilter;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourcePatternFilter;
import org.apache.kafka.common.resource.ResourceType;

/** ACL wire fields to Kafka's ACL types, and what makes a new ACL invalid (Kafka's rules and messages). */
final class AclFilters {
    private AclFilters() {}

    static AclBindingFilter filter(byte resourceType, String name, byte patternType, String principal, String host, byte operation, byte permission) {
        return new AclBindingFilter(new ResourcePatternFilter(ResourceType.fromCode(resourceType), name, PatternType.fromCode(patternType)),
                new AccessControlEntryFilter(principal, host, AclOperation.fromCode(operation), AclPermissionType.fromCode(permission)));
    }

    /** Why a caller may not administer ACLs (Kafka's answer for each case), or null when it may. */
    record Refusal(Errors error, String message) {}

    /** ACL administration needs an authorizer (SECURITY_DISABLED otherwise) and {@code operation} on the cluster. */
    static Refusal refusal(RequestContext context, AclOperation operation) {
        if (!context.authorizer().enabled()) {
            return new Refusal(Errors.SECURITY_DISABLED, "no authorizer is configured; set authorizer.class.name=capstan");
        }
        return context.allowedOnCluster(operation) ? null
                : new Refusal(Errors.CLUSTER_AUTHORIZATION_FAILED, "managing ACLs needs " + operation + " on the cluster");
    }

    /** Null when the ACL can be stored; otherwise why not. */
    static String problem(AclBinding acl) {
        ResourcePattern pattern = acl.pattern();
        AccessControlEntry entry = acl.entry();
        if (acl.isUnknown()) {
            return "the ACL has an unknown resource type, pattern type, operation or permission";
        }
        if (pattern.resourceType() == ResourceType.ANY || entry.operation() == AclOperation.ANY || entry.permissionType() == AclPermissionType.ANY) {
            return "ANY is a filter value, not an ACL value";
        }
        if (pattern.patternType() != PatternType.LITERAL && pattern.patternType() != PatternType.PREFIXED) {
            return "pattern type must be LITERAL or PREFIXED, got " + pattern.patternType();
        }
        if (pattern.name() == null || pattern.name().isEmpty()) {
            return "resource name must not be empty";
        }
        if (pattern.resourceType() == ResourceType.CLUSTER && !pattern.name().equals(Authorizer.CLUSTER)) {
            return "the cluster resource is named " + Authorizer.CLUSTER;
        }
        if (pattern.resourceType() == ResourceType.DELEGATION_TOKEN || pattern.resourceType() == ResourceType.USER) {
            return pattern.resourceType() + " ACLs are not supported by Capstan";
        }
        int colon = entry.principal() == null ? -1 : entry.principal().indexOf(':');
        if (colon <= 0 || colon == entry.principal().length() - 1) {
            return "principal must look like User:alice, got '" + entry.principal() + "'";
        }
        if (entry.host() == null || entry.host().isEmpty()) {
            return "host must be an address or *";
        }
        return null;
    }

}
