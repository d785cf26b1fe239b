package io.capstan.broker.security;

import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.security.auth.KafkaPrincipal;

/** May this principal, from this address, do this operation on this resource? */
public interface Authorizer {
    /** The cluster resource's name, as Kafka names it. */
    String CLUSTER = "kafka-cluster";

    boolean authorize(KafkaPrincipal principal, String host, AclOperation operation, ResourceType type, String name);

    /**
     * May this principal do {@code operation} on some resource of this type? (Kafka asks it of an idempotent producer:
     * WRITE on any topic stands in for IDEMPOTENT_WRITE on the cluster.)
     */
    boolean authorizeAny(KafkaPrincipal principal, String host, AclOperation operation, ResourceType type);

    /** Whether ACLs are enforced (CreateAcls and friends answer SECURITY_DISABLED otherwise). */
    boolean enabled();

    /** No authorizer configured: everything is allowed, as in Kafka without authorizer.class.name. */
    Authorizer ALLOW_ALL = new Authorizer() {
        @Override
        public boolean authorize(KafkaPrincipal principal, String host, AclOperation operation, ResourceType type, String name) {
            return true;
        }

        @Override
        public boolean authorizeAny(KafkaPrincipal principal, String host, AclOperation operation, ResourceType type) {
            return true;
        }

        @Override
        public boolean enabled() {
            return false;
        }
    };
}
