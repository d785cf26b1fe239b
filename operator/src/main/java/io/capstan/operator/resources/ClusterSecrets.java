package io.capstan.operator.resources;

import io.capstan.operator.api.BrokerCluster;
import javax.security.auth.x500.X500Principal;

/**
 * The names of the Secrets a secured cluster owns and of the principals its certificates carry: what the rendered
 * objects refer to, and what the certificate authorities (io.capstan.operator.certs) write.
 */
public final class ClusterSecrets {
    /** The operator's principal on the replication listener (a super user). */
    public static final X500Principal OPERATOR_PRINCIPAL = new X500Principal("CN=capstan-operator,O=capstan");
    /** The key of the admin token in its Secret. */
    public static final String ADMIN_TOKEN_KEY = "token";

    private ClusterSecrets() {}

    public static String clusterCa(BrokerCluster c) { return c.getMetadata().getName() + "-cluster-ca"; }
    public static String clientsCa(BrokerCluster c) { return c.getMetadata().getName() + "-clients-ca"; }
    /** Public: the cluster CA bundle clients trust (key ca.crt). */
    public static String clusterCaCert(BrokerCluster c) { return c.getMetadata().getName() + "-cluster-ca-cert"; }
    public static String brokerCerts(BrokerCluster c) { return c.getMetadata().getName() + "-broker-certs"; }
    public static String adminToken(BrokerCluster c) { return c.getMetadata().getName() + "-admin-token"; }

    /** The principal of every broker of the cluster on the replication listener. */
    public static X500Principal brokerPrincipal(BrokerCluster c) {
        return new X500Principal("CN=" + c.getMetadata().getName() + "-broker,O=capstan");
    }
}
