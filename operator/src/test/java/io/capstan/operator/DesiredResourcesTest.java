package io.capstan.operator;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.operator.api.BrokerCluster;
import io.capstan.operator.api.BrokerClusterSpec;
import io.capstan.operator.resources.DesiredResources;
import io.capstan.operator.resources.Labels;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DesiredResourcesTest {
    static BrokerCluster cluster(Map<String, String> config) {
        BrokerCluster c = new BrokerCluster();
        c.setMetadata(new ObjectMetaBuilder().withName("orders").withNamespace("shop").withUid("uid-1").withGeneration(1L).build());
        BrokerClusterSpec s = new BrokerClusterSpec();
        s.replicas = 3;
        s.version = "0.1.0";
        s.config.putAll(config);
        c.setSpec(s);
        return c;
    }

    @Test
    void everyObjectIsLabelledAndOwnedByTheCluster() {
        for (HasMetadata o : DesiredResources.all(cluster(Map.of()))) {
            assertThat(o.getMetadata().getNamespace()).isEqualTo("shop");
            assertThat(o.getMetadata().getLabels()).containsAllEntriesOf(Labels.all("orders"));
            assertThat(o.getMetadata().getOwnerReferences()).singleElement()
                    .satisfies(ref -> {
                        assertThat(ref.getUid()).isEqualTo("uid-1");
                        assertThat(ref.getController()).isTrue();
                    });
        }
    }

    @Test
    void theStatefulSetRunsTheBrokersAsTheOperatorDrivesThem() {
        StatefulSet sts = DesiredResources.statefulSet(cluster(Map.of()));
        assertThat(sts.getSpec().getReplicas()).isEqualTo(3);
        assertThat(sts.getSpec().getUpdateStrategy().getType()).as("the operator restarts pods itself, one at a time").isEqualTo("OnDelete");
        assertThat(sts.getSpec().getServiceName()).isEqualTo("orders-brokers");
        var container = sts.getSpec().getTemplate().getSpec().getContainers().get(0);
        assertThat(container.getImage()).isEqualTo("capstan/broker:0.1.0");
        assertThat(container.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/readyz");
        assertThat(container.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/healthz");
        assertThat(container.getLifecycle()).as("SIGTERM does the controlled shutdown; no GET may change a broker").isNull();
        assertThat(String.join(" ", container.getCommand())).contains("--node-id \"${POD_NAME##*-}\"");
        assertThat(sts.getSpec().getVolumeClaimTemplates().get(0).getSpec().getResources().getRequests().get("storage").toString())
                .isEqualTo("10Gi");
        assertThat(sts.getSpec().getTemplate().getSpec().getTerminationGracePeriodSeconds()).isGreaterThanOrEqualTo(60L);
    }

    @Test
    void rendersDeterministicallyAndAConfigChangeChangesThePodTemplate() {
        assertThat(DesiredResources.all(cluster(Map.of("retention.ms", "1000")))).isEqualTo(DesiredResources.all(cluster(Map.of("retention.ms", "1000"))));
        String before = DesiredResources.statefulSet(cluster(Map.of())).getSpec().getTemplate().getMetadata().getAnnotations().get(DesiredResources.CONFIG_HASH);
        String after = DesiredResources.statefulSet(cluster(Map.of("retention.ms", "1000"))).getSpec().getTemplate().getMetadata().getAnnotations().get(DesiredResources.CONFIG_HASH);
        assertThat(after).isNotEqualTo(before);
        assertThat(DesiredResources.configMap(cluster(Map.of("retention.ms", "1000"))).getData().get("broker.properties"))
                .contains("retention.ms=1000").contains("metadata.store=kubernetes").contains("listener.port=9092");
    }

    @Test
    void brokersMayOnlyTouchConfigMapsInTheirNamespace() {
        var role = DesiredResources.role(cluster(Map.of()));
        assertThat(role.getRules()).singleElement().satisfies(rule -> {
            assertThat(rule.getResources()).containsExactly("configmaps");
            assertThat(rule.getVerbs()).doesNotContain("*");
        });
    }
}
