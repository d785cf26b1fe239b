package io.capstan.operator.certs;

import io.capstan.operator.api.BrokerCluster;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The bearer token the brokers' admin-port actions (POST /controlled-shutdown) require, in a Secret the cluster owns:
 * mounted into the brokers only (their ServiceAccount cannot read Secrets), created once, never changed by a pass.
 */
public final class AdminToken {
    public static final String KEY = io.capstan.operator.resources.ClusterSecrets.ADMIN_TOKEN_KEY;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final KubernetesClient client;
    private final Consumer<Secret> writer;

    public AdminToken(KubernetesClient client, Consumer<Secret> writer) {
        this.client = client;
        this.writer = writer;
    }

    public static String secretName(BrokerCluster c) {
        return io.capstan.operator.resources.ClusterSecrets.adminToken(c);
    }

    /** Creates the Secret when the cluster has none; an existing token is kept. */
    public void ensure(BrokerCluster c) {
        Secret existing = client.secrets().inNamespace(c.getMetadata().getNamespace()).withName(secretName(c)).get();
        if (existing != null && existing.getData() != null && existing.getData().get(KEY) != null) {
            return;
        }
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        writer.accept(ClusterCertificates.owned(c, secretName(c), Map.of(KEY, Base64.getUrlEncoder().withoutPadding().encodeToString(bytes))));
    }
}
