package io.capstan.cluster.metadata;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;

/**
 * A broker's rack from a label of the Kubernetes node its pod runs on (as Kafka's broker.rack, resolved at start): the
 * pod learns its node's name from the downward API, and nothing else in a pod can see node labels. The brokers'
 * ServiceAccount needs get on nodes for this (the operator binds it to a ClusterRole shipped with its chart).
 */
public final class NodeRack {
    private NodeRack() {}

    public static String resolve(KubernetesClient client, String nodeName, String label) {
        if (nodeName == null || nodeName.isEmpty()) {
            throw new IllegalStateException("broker.rack.node.label=" + label + " needs the node's name in the NODE_NAME"
                    + " environment variable (downward API: spec.nodeName); set it in the pod or set broker.rack instead");
        }
        Node node;
        try {
            node = client.nodes().withName(nodeName).get();
        } catch (KubernetesClientException e) {
            throw new IllegalStateException("cannot read node " + nodeName + " for its label " + label + " (HTTP " + e.getCode()
                    + "): grant the brokers' ServiceAccount get on nodes, or set broker.rack instead", e);
        }
        if (node == null) {
            throw new IllegalStateException("node " + nodeName + " (NODE_NAME) does not exist; check the pod's NODE_NAME"
                    + " environment variable");
        }
        String rack = node.getMetadata().getLabels() == null ? null : node.getMetadata().getLabels().get(label);
        if (rack == null || rack.isEmpty()) {
            throw new IllegalStateException("node " + nodeName + " has no label " + label + "; label the node (kubectl label node "
                    + nodeName + " " + label + "=<zone>) or change spec.rack.topologyKey");
        }
        return rack;
    }
}
