package io.capstan.operator.reconcile;

import io.capstan.operator.api.BrokerCluster;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Instant;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Kubernetes Events on a BrokerCluster for every significant action, so `kubectl describe` tells its story. */
public interface EventRecorder {
    void normal(BrokerCluster cluster, String reason, String message);

    void warning(BrokerCluster cluster, String reason, String message);

    EventRecorder NONE = new EventRecorder() {
        @Override
        public void normal(BrokerCluster cluster, String reason, String message) { }

        @Override
        public void warning(BrokerCluster cluster, String reason, String message) { }
    };

    static EventRecorder kubernetes(KubernetesClient client) {
        Logger log = LoggerFactory.getLogger(EventRecorder.class);
        return new EventRecorder() {
            @Override
            public void normal(BrokerCluster cluster, String reason, String message) {
                record(cluster, "Normal", reason, message);
            }

            @Override
            public void warning(BrokerCluster cluster, String reason, String message) {
                record(cluster, "Warning", reason, message);
            }

            private void record(BrokerCluster cluster, String type, String reason, String message) {
                String now = Instant.now().toString();
                try {
                    client.v1().events().inNamespace(cluster.getMetadata().getNamespace()).resource(new EventBuilder()
                            .withNewMetadata().withName(cluster.getMetadata().getName() + "." + UUID.randomUUID().toString().substring(0, 8))
                            .withNamespace(cluster.getMetadata().getNamespace()).endMetadata()
                            .withNewInvolvedObject().withApiVersion(cluster.getApiVersion()).withKind(cluster.getKind())
                            .withName(cluster.getMetadata().getName()).withNamespace(cluster.getMetadata().getNamespace())
                            .withUid(cluster.getMetadata().getUid()).endInvolvedObject()
                            .withType(type).withReason(reason).withMessage(message).withCount(1)
                            .withFirstTimestamp(now).withLastTimestamp(now)
                            .withNewSource().withComponent("capstan-operator").endSource()
                            .withReportingComponent("capstan-operator").build()).create();
                } catch (RuntimeException e) {
                    log.warn("cannot record event {} on {}: {}", reason, cluster.getMetadata().getName(), e.toString());
                }
            }
        };
    }
}
