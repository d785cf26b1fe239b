package io.capstan.operator.users;

import io.capstan.certs.IssuedCertificate;
import io.capstan.certs.Pem;
import io.capstan.operator.api.BrokerCluster;
import io.capstan.operator.certs.Authority;
import io.capstan.operator.certs.ClusterCertificates;
import io.capstan.operator.resources.DesiredResources;
import io.capstan.operator.resources.ListenerSettings;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;

/**
 * A Kafka admin client into a secured cluster as the operator: over the replication listener, with a short-lived
 * client certificate from the cluster CA (a super user there), checking the brokers' certificates and host names.
 */
public interface ClusterAdmins {
    Admin open(BrokerCluster cluster, Authority clusterCa);

    /** Bootstraps from every broker pod's DNS name. */
    static ClusterAdmins overReplicationListener() {
        return (cluster, clusterCa) -> {
            Instant now = Instant.now();
            IssuedCertificate me = ClusterCertificates.operatorIdentity(clusterCa, now);
            List<String> brokers = new ArrayList<>();
            String ns = cluster.getMetadata().getNamespace();
            for (int i = 0; i < cluster.getSpec().replicas; i++) {
                brokers.add(cluster.getMetadata().getName() + "-" + i + "." + DesiredResources.headlessName(cluster) + "." + ns + ".svc:"
                        + ListenerSettings.REPLICATION_PORT);
            }
            Map<String, Object> config = new HashMap<>();
            config.put("bootstrap.servers", String.join(",", brokers));
            config.put("security.protocol", "SSL");
            config.put("ssl.keystore.type", "PEM");
            config.put("ssl.keystore.key", me.keyPem());
            config.put("ssl.keystore.certificate.chain", me.certificatePem() + me.caPem());
            config.put("ssl.truststore.type", "PEM");
            config.put("ssl.truststore.certificates", Pem.bundle(clusterCa.trusted(now)));
            config.put("client.id", "capstan-operator");
            config.put("request.timeout.ms", 10_000);
            config.put("default.api.timeout.ms", 20_000);
            return Admin.create(config);
        };
    }
}
