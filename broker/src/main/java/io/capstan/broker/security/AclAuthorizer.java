package io.capstan.broker.security;

import java.util.Set;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.security.auth.KafkaPrincipal;

/** Kafka's ACL authorizer over the ACLs every broker keeps from the metadata store. */
public final class AclAuthorizer implements Authorizer {
    private final AclStore acls;
    private final Set<String> superUsers;
    private final boolean allowIfNoAcl;

    public AclAuthorizer(AclStore acls, Set<String> superUsers, boolean allowIfNoAcl) {
        this.acls = acls;
        this.superUsers = superUsers;
        this.allowIfNoAcl = allowIfNoAcl;
    }

    @Override
    public boolean authorize(KafkaPrincipal principal, String host, AclOperation operation, ResourceType type, String name) {
        return AclDecision.authorize(acls.of(type), superUsers, allowIfNoAcl, new AclDecision.Request(principal, host, operation, type, name));
    }

    @Override
    public boolean authorizeAny(KafkaPrincipal principal, String host, AclOperation operation, ResourceType type) {
        return AclDecision.authorizeAny(acls.of(type), superUsers, allowIfNoAcl, new AclDecision.Request(principal, host, operation, type, null));
    }

    @Override
    public boolean enabled() {
        return true;
    }
}
