package io.capstan.operator.nodes;

import io.capstan.cluster.metadata.ShardState;
import io.capstan.operator.api.BrokerCluster;
import io.capstan.operator.api.BrokerClusterSpec;
import io.capstan.operator.spec.Durations;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeSelectorRequirement;
import io.fabric8.kubernetes.api.model.NodeSelectorTerm;
import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Carries out {@link NodeLossPlan}: reads the nodes of broker pods that are not Ready and the volumes of their
 * claims (nothing while every broker pod is Ready), and deletes what the plan says.
 */
public final class NodeLoss {
    private static final String HOSTNAME = "kubernetes.io/hostname";

    private final KubernetesClient client;

    public NodeLoss(KubernetesClient client) {
        this.client = client;
    }

    public static NodeLossPlan.Policy policy(BrokerClusterSpec spec) {
        if (spec.nodeLoss == null) {
            return null;
        }
        return new NodeLossPlan.Policy(Durations.parse(spec.nodeLoss.after == null ? "5m" : spec.nodeLoss.after).toMillis(),
                Boolean.TRUE.equals(spec.nodeLoss.releaseLocalVolumes));
    }

    /** Decides and, when the plan replaces a broker, deletes its claim (if released) and then its pod at once. */
    public NodeLossPlan.Decision handle(BrokerCluster cluster, List<Pod> pods, List<PersistentVolumeClaim> claims, List<ShardState> shards,
                                       Set<Integer> alive, long nowMs) {
        NodeLossPlan.Policy policy = policy(cluster.getSpec());
        if (policy == null) {
            return NodeLossPlan.decide(null, List.of(), shards, alive, nowMs);
        }
        List<NodeLossPlan.Broker> brokers = new ArrayList<>();
        for (Pod pod : pods) {
            String node = pod.getSpec() == null ? null : pod.getSpec().getNodeName();
            if (node == null || node.isEmpty() || ready(pod) || pod.getMetadata().getDeletionTimestamp() != null) {
                continue;
            }
            Long since = notReadySince(client.nodes().withName(node).get(), pod, nowMs);
            if (since == null) {
                continue;
            }
            String claimName = "data-" + pod.getMetadata().getName();
            String pinnedTo = claims.stream().filter(c -> claimName.equals(c.getMetadata().getName())).findFirst()
                    .map(c -> c.getSpec().getVolumeName()).filter(v -> !v.isEmpty())
                    .map(v -> client.persistentVolumes().withName(v).get()).map(NodeLoss::pinnedNode).orElse(null);
            brokers.add(new NodeLossPlan.Broker(io.capstan.operator.resources.Labels.ordinal(pod.getMetadata().getName()),
                    pod.getMetadata().getName(), node, since, claimName, pinnedTo));
        }
        NodeLossPlan.Decision decision = NodeLossPlan.decide(policy, brokers, shards, alive, nowMs);
        NodeLossPlan.Replace replace = decision.replace();
        if (replace != null) {
            String namespace = cluster.getMetadata().getNamespace();
            if (replace.releaseClaim() != null) {
                client.persistentVolumeClaims().inNamespace(namespace).withName(replace.releaseClaim()).delete();
            }
            client.pods().inNamespace(namespace).withName(replace.pod()).withGracePeriod(0).delete();
        }
        return decision;
    }

    private static boolean ready(Pod pod) {
        return pod.getStatus() != null && pod.getStatus().getConditions() != null && pod.getStatus().getConditions().stream()
                .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
    }

    /** Since when the node has not been Ready; a node that is gone, since the pod stopped being Ready. Null: it is Ready. */
    static Long notReadySince(Node node, Pod pod, long nowMs) {
        if (node == null) {
            return pod.getStatus() == null || pod.getStatus().getConditions() == null ? nowMs : pod.getStatus().getConditions().stream()
                    .filter(c -> "Ready".equals(c.getType())).findFirst().map(c -> parse(c.getLastTransitionTime(), nowMs)).orElse(nowMs);
        }
        if (node.getStatus() == null || node.getStatus().getConditions() == null) {
            return null;
        }
        return node.getStatus().getConditions().stream().filter(c -> "Ready".equals(c.getType()) && !"True".equals(c.getStatus()))
                .findFirst().map(c -> parse(c.getLastTransitionTime(), nowMs)).orElse(null);
    }

    /** The one node a volume's required node affinity allows (a local volume), else null. */
    static String pinnedNode(PersistentVolume pv) {
        if (pv.getSpec().getNodeAffinity() == null || pv.getSpec().getNodeAffinity().getRequired() == null) {
            return null;
        }
        List<NodeSelectorTerm> terms = pv.getSpec().getNodeAffinity().getRequired().getNodeSelectorTerms();
        if (terms == null || terms.size() != 1 || terms.get(0).getMatchExpressions() == null) {
            return null;
        }
        for (NodeSelectorRequirement r : terms.get(0).getMatchExpressions()) {
            if (HOSTNAME.equals(r.getKey()) && "In".equals(r.getOperator()) && r.getValues() != null && r.getValues().size() == 1) {
                return r.getValues().get(0);
            }
        }
        return null;
    }

    private static long parse(String time, long fallback) {
        return time == null || time.isEmpty() ? fallback : Instant.parse(time).toEpochMilli();
    }
}
