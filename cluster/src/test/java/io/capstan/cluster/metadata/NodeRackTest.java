package io.capstan.cluster.metadata;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class NodeRackTest {
    KubernetesMockServer server;
    KubernetesClient client;

    @BeforeEach
    void start() {
        server = new KubernetesMockServer(new io.fabric8.mockwebserver.Context(), new io.fabric8.mockwebserver.MockWebServer(),
                new HashMap<>(), new KubernetesCrudDispatcher(), false);
        server.init();
        client = server.createClient();
        client.nodes().resource(new NodeBuilder().withNewMetadata().withName("node-a")
                .withLabels(Map.of("topology.kubernetes.io/zone", "eu-west-1a")).endMetadata().build()).create();
        client.nodes().resource(new NodeBuilder().withNewMetadata().withName("unlabelled").endMetadata().build()).create();
    }

    @AfterEach
    void stop() {
        client.close();
        server.destroy();
    }

    @Test
    void theRackIsTheNodesLabel() {
        assertThat(NodeRack.resolve(client, "node-a", "topology.kubernetes.io/zone")).isEqualTo("eu-west-1a");
    }

    @Test
    void eachMissingPieceIsNamedWithWhatToDo() {
        assertThatThrownBy(() -> NodeRack.resolve(client, "", "topology.kubernetes.io/zone"))
                .hasMessageContaining("NODE_NAME").hasMessageContaining("set broker.rack instead");
        assertThatThrownBy(() -> NodeRack.resolve(client, "node-b", "topology.kubernetes.io/zone"))
                .hasMessageContaining("node node-b (NODE_NAME) does not exist");
        assertThatThrownBy(() -> NodeRack.resolve(client, "unlabelled", "topology.kubernetes.io/zone"))
                .hasMessageContaining("has no label topology.kubernetes.io/zone").hasMessageContaining("kubectl label node unlabelled");
    }
}
