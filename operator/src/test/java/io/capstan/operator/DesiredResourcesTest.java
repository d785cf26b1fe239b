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
    void theAdminPortsActionsNeedTheTokenFromTheClustersSecret() {
        BrokerCluster c = cluster(Map.of());
        assertThat(DesiredResources.brokerProperties(c)).contains("admin.token.file=/etc/capstan-admin/token");
        assertThat(DesiredResources.statefulSet(c).getSpec().getTemplate().getSpec().getVolumes()).filteredOn(v -> v.getSecret() != null)
                .singleElement().satisfies(v -> {
            assertThat(v.getSecret().getSecretName()).isEqualTo("orders-admin-token");
            assertThat(v.getSecret().getDefaultMode()).isEqualTo(0440);
        });
    }

    @Test
    void brokersMayOnlyTouchTheirMetadataObjectsInTheirNamespace() {
        BrokerCluster fresh = cluster(Map.of());
        var role = DesiredResources.role(fresh);
        assertThat(role.getRules()).singleElement().satisfies(rule -> {
            assertThat(rule.getApiGroups()).containsExactly("capstan.io");
            assertThat(rule.getResources()).as("not the namespace's ConfigMaps").containsExactly("metadataentries");
            assertThat(rule.getVerbs()).doesNotContain("*", "patch", "deletecollection");
        });
        assertThat(DesiredResources.brokerProperties(fresh)).contains("metadata.kubernetes.kind=MetadataEntry");

        BrokerCluster legacy = cluster(Map.of());
        legacy.setStatus(new io.capstan.operator.api.BrokerClusterStatus());
        legacy.getStatus().metadataKind = io.capstan.operator.shards.MetadataKind.CONFIG_MAP;
        assertThat(DesiredResources.role(legacy).getRules().get(0).getResources()).containsExactly("configmaps");
        assertThat(DesiredResources.brokerProperties(legacy)).contains("metadata.kubernetes.kind=ConfigMap");
    }

    @Test
    void aClusterAnEarlierOperatorRanKeepsConfigMapsAndANewOneGetsMetadataEntriesOnce() {
        var status = new io.capstan.operator.api.BrokerClusterStatus();
        assertThat(io.capstan.operator.shards.MetadataKind.decide(null)).isEqualTo("MetadataEntry");
        assertThat(io.capstan.operator.shards.MetadataKind.decide(status)).isEqualTo("MetadataEntry");
        status.observedGeneration = 4L;
        assertThat(io.capstan.operator.shards.MetadataKind.decide(status)).as("reconciled before kinds were recorded").isEqualTo("ConfigMap");
        status.metadataKind = "MetadataEntry";
        assertThat(io.capstan.operator.shards.MetadataKind.decide(status)).as("recorded: kept").isEqualTo("MetadataEntry");
    }

    @Test
    void brokerPodsMeetPodSecurityRestricted() {
        var pod = DesiredResources.statefulSet(cluster(Map.of())).getSpec().getTemplate().getSpec();
        assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
        assertThat(pod.getSecurityContext().getRunAsUser()).as("the image's user").isEqualTo(10001L);
        assertThat(pod.getSecurityContext().getFsGroup()).as("the data volume writable by it").isEqualTo(10001L);
        assertThat(pod.getSecurityContext().getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
        var container = pod.getContainers().get(0).getSecurityContext();
        assertThat(container.getAllowPrivilegeEscalation()).isFalse();
        assertThat(container.getCapabilities().getDrop()).containsExactly("ALL");
        assertThat(container.getCapabilities().getAdd()).isNullOrEmpty();
        assertThat(container.getReadOnlyRootFilesystem()).isTrue();
        assertThat(pod.getContainers().get(0).getVolumeMounts()).filteredOn(m -> !Boolean.TRUE.equals(m.getReadOnly()))
                .extracting(m -> m.getMountPath()).as("writable only where it must be").containsExactlyInAnyOrder("/var/lib/capstan", "/tmp");
        assertThat(pod.getContainers().get(0).getVolumeMounts()).filteredOn(m -> Boolean.TRUE.equals(m.getReadOnly()))
                .extracting(m -> m.getMountPath()).containsExactlyInAnyOrder("/etc/capstan", DesiredResources.ADMIN_TOKEN_PATH);
        assertThat(pod.getVolumes()).allSatisfy(v -> assertThat(v.getHostPath()).isNull());
    }

    @Test
    void theAdminPortIsOffTheClientServiceAndOnlyBrokersTheOperatorAndNamedScrapersReachIt() {
        assertThat(DesiredResources.clientService(cluster(Map.of())).getSpec().getPorts()).extracting(p -> p.getPort()).containsExactly(9092);
        var policy = DesiredResources.networkPolicy(cluster(Map.of())).getSpec();
        assertThat(policy.getPodSelector().getMatchLabels()).isEqualTo(Labels.selector("orders"));
        assertThat(policy.getPolicyTypes()).containsExactly("Ingress");
        assertThat(policy.getIngress()).hasSize(2);
        var kafka = policy.getIngress().get(0);
        assertThat(kafka.getPorts()).extracting(p -> p.getPort().getIntVal()).containsExactly(9092);
        assertThat(kafka.getFrom()).as("any client").isNullOrEmpty();
        var admin = policy.getIngress().get(1);
        assertThat(admin.getPorts()).extracting(p -> p.getPort().getIntVal()).containsExactly(9644);
        assertThat(admin.getFrom()).hasSize(2);
        assertThat(admin.getFrom().get(0).getPodSelector().getMatchLabels()).isEqualTo(Labels.selector("orders"));
        assertThat(admin.getFrom().get(0).getNamespaceSelector()).as("this namespace only").isNull();
        assertThat(admin.getFrom().get(1).getPodSelector().getMatchLabels()).isEqualTo(DesiredResources.OPERATOR_POD_LABELS);

        BrokerCluster monitored = cluster(Map.of());
        monitored.getSpec().metrics.scrapeNamespaceLabels.put("kubernetes.io/metadata.name", "monitoring");
        var scrapers = DesiredResources.networkPolicy(monitored).getSpec().getIngress().get(1).getFrom();
        assertThat(scrapers).hasSize(3);
        assertThat(scrapers.get(2).getNamespaceSelector().getMatchLabels()).containsExactly(Map.entry("kubernetes.io/metadata.name", "monitoring"));
        assertThat(scrapers.get(2).getPodSelector()).as("any pod of those namespaces").isNull();
    }
}
