package io.capstan.operator.reconcile;

import io.capstan.operator.api.BrokerCluster;
import io.capstan.operator.api.BrokerClusterStatus;
import io.capstan.operator.resources.DesiredResources;
import io.capstan.operator.resources.Labels;
import io.capstan.operator.spec.SpecProblem;
import io.capstan.operator.spec.SpecValidator;
import io.capstan.operator.rollout.RestartSafetyProbe;
import io.capstan.operator.rollout.RollingRestart;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * observe -> validate -> plan -> apply -> status, as the Flink Kubernetes Operator structures it. Paused clusters are
 * left alone (and say so); an invalid spec changes nothing that runs and is reported in a Degraded/InvalidSpec
 * condition naming the field; otherwise every owned object is written as {@link DesiredResources} renders it and the
 * status reports what the StatefulSet shows. Level-triggered: it also runs again every 30 s.
 */
@ControllerConfiguration(name = "brokercluster")
public final class BrokerClusterReconciler implements Reconciler<BrokerCluster> {
    public static final String PAUSED_ANNOTATION = "capstan.io/paused";
    private static final Logger log = LoggerFactory.getLogger(BrokerClusterReconciler.class);
    private static final Duration RESYNC = Duration.ofSeconds(30);

    private final KubernetesClient client;
    private final ResourceWriter writer;
    private final RestartSafetyProbe safety;

    public BrokerClusterReconciler(KubernetesClient client, ResourceWriter writer, RestartSafetyProbe safety) {
        this.client = client;
        this.writer = writer;
        this.safety = safety;
    }

    @Override
    public UpdateControl<BrokerCluster> reconcile(BrokerCluster cluster, Context<BrokerCluster> context) {
        return UpdateControl.patchStatus(reconcile(cluster)).rescheduleAfter(RESYNC);
    }

    /**
     * Health-gated rolling update: the StatefulSet's pods are replaced by the operator (OnDelete), one at a time,
     * highest ordinal first, and only when that broker says it is safe to restart.
     */
    private RollingRestart.Decision rollOut(BrokerCluster cluster, StatefulSet sts, int replicas) {
        String target = sts == null || sts.getStatus() == null ? null : sts.getStatus().getUpdateRevision();
        if (target == null) {
            return new RollingRestart.Done(0);
        }
        List<Pod> pods = client.pods().inNamespace(cluster.getMetadata().getNamespace())
                .withLabels(Labels.selector(cluster.getMetadata().getName())).list().getItems();
        java.util.Map<Integer, Pod> byOrdinal = new java.util.HashMap<>();
        List<RollingRestart.PodView> views = new java.util.ArrayList<>();
        for (Pod pod : pods) {
            String podName = pod.getMetadata().getName();
            int ordinal = Integer.parseInt(podName.substring(podName.lastIndexOf('-') + 1));
            byOrdinal.put(ordinal, pod);
            boolean podReady = pod.getStatus() != null && pod.getStatus().getConditions() != null && pod.getStatus().getConditions().stream()
                    .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
            String revision = pod.getMetadata().getLabels() == null ? null : pod.getMetadata().getLabels().get("controller-revision-hash");
            views.add(new RollingRestart.PodView(ordinal, revision, podReady, pod.getMetadata().getDeletionTimestamp() != null));
        }
        RollingRestart.Decision decision = RollingRestart.next(views, replicas, target, Integer.MAX_VALUE,
                ordinal -> safety.check(byOrdinal.get(ordinal)));
        if (decision instanceof RollingRestart.Restart r) {
            Pod pod = byOrdinal.get(r.ordinal());
            log.info("{}/{}: restarting {} onto revision {} (it said it is safe)", cluster.getMetadata().getNamespace(),
                    cluster.getMetadata().getName(), pod.getMetadata().getName(), target);
            client.pods().inNamespace(cluster.getMetadata().getNamespace()).withName(pod.getMetadata().getName()).delete();
        }
        return decision;
    }

    private static BrokerClusterStatus.RolloutStatus rolloutStatus(RollingRestart.Decision decision) {
        BrokerClusterStatus.RolloutStatus r = new BrokerClusterStatus.RolloutStatus();
        if (decision instanceof RollingRestart.Done) {
            r.phase = BrokerClusterStatus.Phase.Complete;
            r.message = "every broker runs the current template";
        } else if (decision instanceof RollingRestart.Restart restart) {
            r.phase = BrokerClusterStatus.Phase.Promoting;
            r.message = "restarting broker " + restart.ordinal();
        } else if (decision instanceof RollingRestart.Wait wait) {
            r.phase = BrokerClusterStatus.Phase.Promoting;
            r.message = wait.reason();
        }
        return r;
    }

    /** One pass; returns the cluster with its new status (the caller writes the status). */
    public BrokerCluster reconcile(BrokerCluster cluster) {
        String name = cluster.getMetadata().getNamespace() + "/" + cluster.getMetadata().getName();
        long generation = cluster.getMetadata().getGeneration() == null ? 0 : cluster.getMetadata().getGeneration();
        BrokerClusterStatus status = cluster.getStatus() == null ? new BrokerClusterStatus() : cluster.getStatus();
        cluster.setStatus(status);
        status.selector = Labels.selectorString(cluster.getMetadata().getName());
        // observe first: what runs now is what the status reports
        StatefulSet sts = client.apps().statefulSets().inNamespace(cluster.getMetadata().getNamespace())
                .withName(cluster.getMetadata().getName()).get();
        boolean paused = Boolean.TRUE.equals(cluster.getSpec().paused)
                || "true".equalsIgnoreCase(cluster.getMetadata().getAnnotations() == null ? null
                : cluster.getMetadata().getAnnotations().get(PAUSED_ANNOTATION));
        if (paused) {
            Conditions.set(status.conditions, Conditions.PAUSED, true, "Paused",
                    "spec.paused or the capstan.io/paused annotation is set; nothing is changed until it is removed", generation);
            log.info("{}: reconciliation paused", name);
            return cluster;
        }
        Conditions.set(status.conditions, Conditions.PAUSED, false, "Reconciling", "changes are applied", generation);

        List<SpecProblem> problems = SpecValidator.validate(cluster.getSpec());
        if (!problems.isEmpty()) {
            String message = problems.stream().map(SpecProblem::toString).collect(Collectors.joining("; "))
                    + " (the running brokers are left as they are; fix the BrokerCluster to continue)";
            Conditions.set(status.conditions, Conditions.DEGRADED, true, "InvalidSpec", message, generation);
            Conditions.set(status.conditions, Conditions.READY, false, "InvalidSpec", "the spec is invalid; see Degraded", generation);
            status.observedGeneration = generation;
            log.warn("{}: invalid spec: {}", name, message);
            return cluster;
        }

        for (HasMetadata desired : DesiredResources.all(cluster)) {
            writer.write(desired);
        }

        int want = cluster.getSpec().replicas;
        int ready = sts == null || sts.getStatus() == null || sts.getStatus().getReadyReplicas() == null ? 0 : sts.getStatus().getReadyReplicas();
        int current = sts == null || sts.getStatus() == null || sts.getStatus().getReplicas() == null ? 0 : sts.getStatus().getReplicas();
        int updated = sts == null || sts.getStatus() == null || sts.getStatus().getUpdatedReplicas() == null ? 0 : sts.getStatus().getUpdatedReplicas();
        status.replicas = current;
        status.readyReplicas = ready;
        status.updatedReplicas = updated;
        status.targetVersion = cluster.getSpec().version;
        status.observedGeneration = generation;
        Conditions.set(status.conditions, Conditions.DEGRADED, false, "SpecValid", "the spec is valid", generation);
        RollingRestart.Decision rollout = rollOut(cluster, sts, want);
        boolean allReady = ready == want && current == want;
        boolean settled = allReady && rollout instanceof RollingRestart.Done;
        if (settled) {
            status.currentVersion = cluster.getSpec().version;
            status.lastStableSpec = cluster.getSpec();
        }
        status.rollout = rolloutStatus(rollout);
        Conditions.set(status.conditions, Conditions.READY, allReady, allReady ? "AllBrokersReady" : "BrokersStarting",
                ready + " of " + want + " brokers ready", generation);
        String why = rollout instanceof RollingRestart.Restart r ? "restarting broker " + r.ordinal() + " onto the new template ("
                + r.updated() + " of " + want + " updated)"
                : rollout instanceof RollingRestart.Wait w ? w.reason() : allReady ? "nothing to do"
                : "waiting for " + (want - ready) + " broker(s) to become ready";
        Conditions.set(status.conditions, Conditions.PROGRESSING, !settled,
                settled ? "Stable" : rollout instanceof RollingRestart.Done ? "WaitingForBrokers" : "RollingUpdate", why, generation);
        return cluster;
    }
}
