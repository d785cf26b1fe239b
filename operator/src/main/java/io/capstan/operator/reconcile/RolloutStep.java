package io.capstan.operator.reconcile;

import io.capstan.operator.api.BrokerCluster;
import io.capstan.operator.api.BrokerClusterSpec;
import io.capstan.operator.api.BrokerClusterStatus;
import io.capstan.operator.resources.DesiredResources;
import io.capstan.operator.rollout.Canary;
import io.capstan.operator.rollout.RestartSafetyProbe;
import io.capstan.operator.rollout.RollingRestart;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The rollout step of a pass: which broker (if any) restarts onto the new template now. The decisions are
 * {@link Canary}'s and {@link RollingRestart}'s (pure); this class feeds them what was observed, records the rollout's
 * progress in the status, and deletes the one pod they chose.
 */
final class RolloutStep {
    private static final Logger log = LoggerFactory.getLogger(RolloutStep.class);

    private final KubernetesClient client;
    private final RestartSafetyProbe safety;
    private final OperatorMetrics metrics;
    private final EventRecorder events;

    RolloutStep(KubernetesClient client, RestartSafetyProbe safety, OperatorMetrics metrics, EventRecorder events) {
        this.client = client;
        this.safety = safety;
        this.metrics = metrics;
        this.events = events;
    }

    /**
     * Health-gated rolling update: the StatefulSet's pods are replaced by the operator (OnDelete), one at a time,
     * highest ordinal first, and only when that broker says it is safe to restart.
     */
    RollingRestart.Decision next(ObservedCluster observed, String renderedTemplate, boolean rolledBack) {
        BrokerCluster cluster = observed.cluster();
        StatefulSet sts = observed.statefulSet();
        int replicas = cluster.getSpec().replicas;
        long generation = observed.generation();
        String target = sts == null || sts.getStatus() == null ? null : sts.getStatus().getUpdateRevision();
        if (target == null) {
            return new RollingRestart.Done(0);
        }
        if (!templateCurrent(sts, renderedTemplate)) {
            // what the pods are compared with would be the previous template's revision
            return new RollingRestart.Wait("the StatefulSet controller has not taken the new pod template yet", 0);
        }
        BrokerClusterStatus status = cluster.getStatus();
        if (status.rollout == null || !target.equals(status.rollout.revision)) {
            Long keptRollback = status.rollout == null ? null : status.rollout.rolledBackGeneration;
            status.rollout = new BrokerClusterStatus.RolloutStatus();
            status.rollout.revision = target;
            status.rollout.step = 0;
            status.rollout.analysisFailures = 0;
            status.rollout.rolledBackGeneration = keptRollback;
        }
        List<Pod> pods = observed.pods();
        java.util.Map<Integer, Pod> byOrdinal = new java.util.HashMap<>();
        List<RollingRestart.PodView> views = new java.util.ArrayList<>();
        for (Pod pod : pods) {
            String podName = pod.getMetadata().getName();
            int ordinal = io.capstan.operator.resources.Labels.ordinal(podName);
            byOrdinal.put(ordinal, pod);
            boolean podReady = pod.getStatus() != null && pod.getStatus().getConditions() != null && pod.getStatus().getConditions().stream()
                    .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
            String revision = pod.getMetadata().getLabels() == null ? null : pod.getMetadata().getLabels().get("controller-revision-hash");
            views.add(new RollingRestart.PodView(ordinal, revision, podReady, pod.getMetadata().getDeletionTimestamp() != null));
        }
        int limit = Integer.MAX_VALUE;
        BrokerClusterSpec.Canary canary = cluster.getSpec().rollout == null ? null : cluster.getSpec().rollout.canary;
        boolean firstDeploy = status.lastStableSpec == null;
        if (canary != null && canary.steps != null && !canary.steps.isEmpty() && !rolledBack && !firstDeploy) {
            int updated = (int) views.stream().filter(v -> target.equals(v.revision()) && !v.terminating()).count();
            boolean allReady = views.size() >= replicas && views.stream().allMatch(v -> v.ready() && !v.terminating());
            BrokerClusterStatus.RolloutStatus r = status.rollout;
            Canary.Verdict verdict = Canary.decide(canary.steps, canary.analysis,
                    new Canary.Position(r.step == null ? 0 : r.step, r.pauseStartedMs == null ? -1 : r.pauseStartedMs,
                            r.analysisFailures == null ? 0 : r.analysisFailures, r.lastAnalysisMs == null ? -1 : r.lastAnalysisMs),
                    replicas, updated, allReady, cluster.getSpec().rollout.approve, cluster.getSpec().version,
                    status.shards == null || status.shards.underReplicated == null ? 0 : status.shards.underReplicated, observed.nowMs());
            r.step = verdict.next().step();
            r.pauseStartedMs = verdict.next().pauseStartedMs() < 0 ? null : verdict.next().pauseStartedMs();
            r.analysisFailures = verdict.next().analysisFailures();
            r.lastAnalysisMs = verdict.next().lastCheckMs() < 0 ? null : verdict.next().lastCheckMs();
            r.message = verdict.message();
            r.phase = switch (verdict.phase()) {
                case CANARY -> BrokerClusterStatus.Phase.Canary;
                case PAUSED -> BrokerClusterStatus.Phase.Paused;
                case PROMOTING -> BrokerClusterStatus.Phase.Promoting;
                case ROLLED_BACK -> BrokerClusterStatus.Phase.RolledBack;
            };
            if (verdict.phase() == Canary.Phase.ROLLED_BACK) {
                r.rolledBackGeneration = generation;
                metrics.action("rollback");
                log.warn("{}/{}: canary rolled back: {}", cluster.getMetadata().getNamespace(), cluster.getMetadata().getName(), verdict.message());
                Conditions.set(status.conditions, Conditions.DEGRADED, true, "CanaryRolledBack", verdict.message()
                        + "; change the BrokerCluster spec to try again", generation);
                return new RollingRestart.Wait(verdict.message(), updated);
            }
            limit = verdict.limit();
        } else if (rolledBack) {
            status.rollout.phase = BrokerClusterStatus.Phase.RolledBack;
        }
        RollingRestart.Decision decision = RollingRestart.next(views, replicas, target, limit,
                ordinal -> safety.check(byOrdinal.get(ordinal)));
        if (decision instanceof RollingRestart.Restart r) {
            Pod pod = byOrdinal.get(r.ordinal());
            log.info("{}/{}: restarting {} onto revision {} (it said it is safe)", cluster.getMetadata().getNamespace(),
                    cluster.getMetadata().getName(), pod.getMetadata().getName(), target);
            client.pods().inNamespace(cluster.getMetadata().getNamespace()).withName(pod.getMetadata().getName()).delete();
            metrics.action("broker_restart");
            events.normal(cluster, "RestartingBroker", "restarting " + pod.getMetadata().getName() + " onto revision " + target
                    + " (it reported it is safe to restart)");
            if (status.rollout.phase == null || status.rollout.phase == BrokerClusterStatus.Phase.Complete) {
                status.rollout.phase = BrokerClusterStatus.Phase.Promoting;
            }
            if (status.rollout.message == null || canary == null || canary.steps == null || canary.steps.isEmpty()) {
                status.rollout.message = "restarting broker " + r.ordinal();
            }
        } else if (decision instanceof RollingRestart.Wait w && (canary == null || canary.steps == null || canary.steps.isEmpty())) {
            status.rollout.phase = rolledBack ? BrokerClusterStatus.Phase.RolledBack : BrokerClusterStatus.Phase.Promoting;
            status.rollout.message = w.reason();
        }
        return decision;
    }

    /**
     * Whether the StatefulSet observed at the start of this pass already runs the template rendered from the spec, and
     * its controller has seen it: until then "every pod is on the update revision" speaks of the previous template, and
     * recording the spec as stable would make a rollback return to the very spec it rolls back.
     */
    private static boolean templateCurrent(StatefulSet sts, String renderedTemplate) {
        if (sts == null || sts.getStatus() == null || sts.getMetadata().getAnnotations() == null) {
            return false;
        }
        long generation = sts.getMetadata().getGeneration() == null ? 0 : sts.getMetadata().getGeneration();
        Long observed = sts.getStatus().getObservedGeneration();
        return renderedTemplate.equals(sts.getMetadata().getAnnotations().get(DesiredResources.TEMPLATE_HASH))
                && observed != null && observed >= generation;
    }
}
