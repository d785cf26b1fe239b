package io.capstan.operator.reconcile;

import io.capstan.operator.api.BrokerCluster;
import io.capstan.operator.api.BrokerClusterStatus;
import io.capstan.operator.resources.DesiredResources;
import io.capstan.operator.resources.Labels;
import io.capstan.operator.spec.SpecProblem;
import io.capstan.operator.spec.SpecValidator;
import io.capstan.cluster.metadata.ShardState;
import io.capstan.operator.api.BrokerClusterSpec;
import io.capstan.operator.shards.ClusterControllers;
import io.capstan.operator.shards.ClusterMetadata;
import io.capstan.operator.shards.ScalePlan;
import io.javaoperatorsdk.operator.api.reconciler.Cleaner;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.capstan.operator.rollout.Canary;
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
public final class BrokerClusterReconciler implements Reconciler<BrokerCluster>, Cleaner<BrokerCluster> {
    public static final String PAUSED_ANNOTATION = "capstan.io/paused";
    private static final Logger log = LoggerFactory.getLogger(BrokerClusterReconciler.class);
    private static final Duration RESYNC = Duration.ofSeconds(30);

    private final KubernetesClient client;
    private final ResourceWriter writer;
    private final RestartSafetyProbe safety;
    private final ClusterMetadata metadata;
    private final ClusterControllers controllers;
    private final java.util.function.LongSupplier clock;
    private EventRecorder events = EventRecorder.NONE;
    private OperatorMetrics metrics = OperatorMetrics.unregistered();

    /** Production wiring: the brokers' metadata store in the API server, a failover controller per cluster, Events. */
    public BrokerClusterReconciler(KubernetesClient client, ResourceWriter writer, RestartSafetyProbe safety, OperatorMetrics metrics) {
        this(client, writer, safety, new ClusterControllers(client, 1000));
        this.events = EventRecorder.kubernetes(client);
        this.metrics = metrics;
    }

    private BrokerClusterReconciler(KubernetesClient client, ResourceWriter writer, RestartSafetyProbe safety, ClusterControllers controllers) {
        this(client, writer, safety, ClusterMetadata.kubernetes(client, controllers), controllers, System::currentTimeMillis);
    }

    public BrokerClusterReconciler(KubernetesClient client, ResourceWriter writer, RestartSafetyProbe safety,
                                   ClusterMetadata metadata, ClusterControllers controllers, java.util.function.LongSupplier clock) {
        this.client = client;
        this.writer = writer;
        this.safety = safety;
        this.metadata = metadata;
        this.controllers = controllers;
        this.clock = clock;
    }

    /** Where reconcile figures go (tests read them). */
    public BrokerClusterReconciler withMetrics(OperatorMetrics metrics) {
        this.metrics = metrics;
        return this;
    }

    /** Where Events go (tests record them). */
    public BrokerClusterReconciler withEvents(EventRecorder events) {
        this.events = events;
        return this;
    }

    /**
     * Broker pods as a secondary source: a rollout or a scale step moves on as soon as a pod becomes ready or goes
     * away, rather than at the next resync.
     */
    @Override
    public List<io.javaoperatorsdk.operator.processing.event.source.EventSource<?, BrokerCluster>> prepareEventSources(
            io.javaoperatorsdk.operator.api.reconciler.EventSourceContext<BrokerCluster> context) {
        var pods = io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration.from(Pod.class, BrokerCluster.class)
                .withName("broker-pods")
                .withLabelSelector(Labels.NAME + "=capstan," + Labels.COMPONENT + "=broker")
                .withSecondaryToPrimaryMapper(pod -> pod.getMetadata().getLabels() == null
                        || pod.getMetadata().getLabels().get(Labels.INSTANCE) == null ? java.util.Set.of()
                        : java.util.Set.of(new io.javaoperatorsdk.operator.processing.event.ResourceID(
                                pod.getMetadata().getLabels().get(Labels.INSTANCE), pod.getMetadata().getNamespace())))
                .build();
        return List.of(new io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource<>(pods, context));
    }

    @Override
    public DeleteControl cleanup(BrokerCluster cluster, Context<BrokerCluster> context) {
        if (controllers != null) {
            controllers.stop(cluster);
        }
        deleteNodeReaderBinding(cluster);
        log.info("{}/{}: deleted; its objects go with it (owner references)", cluster.getMetadata().getNamespace(), cluster.getMetadata().getName());
        return DeleteControl.defaultDelete();
    }

    @Override
    public UpdateControl<BrokerCluster> reconcile(BrokerCluster cluster, Context<BrokerCluster> context) {
        return UpdateControl.patchStatus(reconcile(cluster)).rescheduleAfter(RESYNC);
    }

    /**
     * A pass that threw (the API server refused or could not be reached, the metadata store did not answer) leaves a
     * Degraded condition saying so, instead of a status that still reads as healthy; JOSDK retries with back-off.
     */
    @Override
    public io.javaoperatorsdk.operator.api.reconciler.ErrorStatusUpdateControl<BrokerCluster> updateErrorStatus(
            BrokerCluster cluster, Context<BrokerCluster> context, Exception e) {
        return io.javaoperatorsdk.operator.api.reconciler.ErrorStatusUpdateControl.patchStatus(failed(cluster, e));
    }

    /** The cluster with a Degraded/ReconcileFailed condition naming the failure and what to check. */
    static BrokerCluster failed(BrokerCluster cluster, Exception e) {
        BrokerClusterStatus status = cluster.getStatus() == null ? new BrokerClusterStatus() : cluster.getStatus();
        cluster.setStatus(status);
        long generation = cluster.getMetadata().getGeneration() == null ? 0 : cluster.getMetadata().getGeneration();
        String what = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        Conditions.set(status.conditions, Conditions.DEGRADED, true, "ReconcileFailed", "the last reconcile failed: " + what
                + "; the operator retries with back-off (check its logs, its RBAC and that the API server is reachable)", generation);
        return cluster;
    }

    /**
     * Health-gated rolling update: the StatefulSet's pods are replaced by the operator (OnDelete), one at a time,
     * highest ordinal first, and only when that broker says it is safe to restart.
     */
    private RollingRestart.Decision rollOut(BrokerCluster cluster, StatefulSet sts, String renderedTemplate, int replicas,
                                            boolean rolledBack, long generation) {
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
                    status.shards == null || status.shards.underReplicated == null ? 0 : status.shards.underReplicated, clock.getAsLong());
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

    /** The one object owner references cannot remove (cluster-scoped, see DesiredResources.nodeReaderBinding). */
    private void deleteNodeReaderBinding(BrokerCluster cluster) {
        client.rbac().clusterRoleBindings().withName(DesiredResources.nodeReaderBindingName(cluster)).delete();
    }

    private boolean serviceMonitorsInstalled() {
        return client.apiextensions().v1().customResourceDefinitions().withName("servicemonitors.monitoring.coreos.com").get() != null;
    }

    private static BrokerClusterStatus.Shards health(List<ShardState> shards, Integer balancedFor) {
        BrokerClusterStatus.Shards h = new BrokerClusterStatus.Shards();
        h.total = shards.size();
        h.offline = (int) shards.stream().filter(s -> s.leader() < 0).count();
        h.underReplicated = (int) shards.stream().filter(s -> s.leader() >= 0 && s.isr().size() < s.replicas().size()).count();
        h.balancedFor = balancedFor;
        return h;
    }

    private static BrokerCluster withSpec(BrokerCluster cluster, BrokerClusterSpec spec) {
        BrokerCluster copy = new BrokerCluster();
        copy.setMetadata(cluster.getMetadata());
        copy.setSpec(spec);
        return copy;
    }

    /** One pass; returns the cluster with its new status (the caller writes the status). */
    public BrokerCluster reconcile(BrokerCluster cluster) {
        long start = System.nanoTime();
        int[] calls = ApiCalls.start();
        String previousDegraded = cluster.getStatus() == null ? null : degradedReason(cluster.getStatus());
        try {
            BrokerCluster done = reconcileOnce(cluster);
            String degraded = degradedReason(done.getStatus());
            if (degraded != null && !degraded.equals(previousDegraded)) {
                var condition = Conditions.get(done.getStatus().conditions, Conditions.DEGRADED);
                events.warning(done, condition.getReason(), condition.getMessage());
            }
            metrics.reconciled(degraded == null ? "ok" : "degraded", System.nanoTime() - start);
            return done;
        } catch (RuntimeException e) {
            metrics.reconciled("error", System.nanoTime() - start);
            throw e;
        } finally {
            metrics.apiCalls(calls[0]);
            ApiCalls.stop();
        }
    }

    /** The reason of a True Degraded condition, with its message, or null. */
    private static String degradedReason(BrokerClusterStatus status) {
        var c = status == null || status.conditions == null ? null : Conditions.get(status.conditions, Conditions.DEGRADED);
        return c == null || !"True".equals(c.getStatus()) ? null : c.getReason() + ": " + c.getMessage();
    }

    private BrokerCluster reconcileOnce(BrokerCluster cluster) {
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

        boolean rolledBack = status.rollout != null && status.rollout.rolledBackGeneration != null
                && status.rollout.rolledBackGeneration == generation && status.lastStableSpec != null;
        if (controllers != null) {
            controllers.ensure(cluster);
        }
        List<ShardState> shards = metadata.shards(cluster);
        Integer balancedFor = status.shards == null ? null : status.shards.balancedFor;
        status.shards = health(shards, balancedFor);
        int want = cluster.getSpec().replicas;
        int runningBrokers = sts == null || sts.getSpec() == null || sts.getSpec().getReplicas() == null ? want : sts.getSpec().getReplicas();
        ScalePlan.Decision scale = ScalePlan.decide(want, runningBrokers, balancedFor, metadata.aliveBrokers(cluster), shards);
        scale.reassign().forEach((id, replicas) -> {
            log.info("{}: moving {}-{} to brokers {} ({})", name, id.topic(), id.partition(), replicas, scale.message());
            metadata.reassign(cluster, id.topic(), id.partition(), replicas);
            metrics.action("shard_move");
            events.normal(cluster, "MovingShard", "moving " + id.topic() + "-" + id.partition() + " to brokers " + replicas
                    + " (" + scale.message() + ")");
        });
        status.shards.balancedFor = scale.balancedFor();
        String renderedTemplate = null;
        for (HasMetadata desired : DesiredResources.all(rolledBack ? withSpec(cluster, status.lastStableSpec) : cluster,
                scale.statefulSetReplicas())) {
            writer.write(desired);
            if (desired instanceof StatefulSet rendered) {
                renderedTemplate = rendered.getMetadata().getAnnotations().get(DesiredResources.TEMPLATE_HASH);
            }
        }
        if (cluster.getSpec().rack != null) {
            writer.write(DesiredResources.nodeReaderBinding(cluster));
        } else {
            deleteNodeReaderBinding(cluster);
        }
        if (cluster.getSpec().metrics != null && Boolean.TRUE.equals(cluster.getSpec().metrics.serviceMonitor)) {
            if (serviceMonitorsInstalled()) {
                writer.write(DesiredResources.serviceMonitor(cluster));
            } else {
                log.info("{}: spec.metrics.serviceMonitor is set but the ServiceMonitor CRD (Prometheus Operator) is not installed", name);
            }
        }

        int ready = sts == null || sts.getStatus() == null || sts.getStatus().getReadyReplicas() == null ? 0 : sts.getStatus().getReadyReplicas();
        int current = sts == null || sts.getStatus() == null || sts.getStatus().getReplicas() == null ? 0 : sts.getStatus().getReplicas();
        int updated = sts == null || sts.getStatus() == null || sts.getStatus().getUpdatedReplicas() == null ? 0 : sts.getStatus().getUpdatedReplicas();
        status.replicas = current;
        status.readyReplicas = ready;
        status.updatedReplicas = updated;
        status.targetVersion = cluster.getSpec().version;
        status.observedGeneration = generation;
        if (scale.refusal() != null) {
            Conditions.set(status.conditions, Conditions.DEGRADED, true, "ScaleInRefused", scale.refusal(), generation);
        } else if (rolledBack) {
            // the CanaryRolledBack condition written at the rollback stays, with its reason, until the spec changes
        } else {
            Conditions.set(status.conditions, Conditions.DEGRADED, false, "SpecValid", "the spec is valid", generation);
        }
        RollingRestart.Decision rollout = rollOut(cluster, sts, renderedTemplate, want, rolledBack, generation);
        boolean allReady = ready == want && current == want;
        boolean settled = allReady && rollout instanceof RollingRestart.Done;
        if (settled && !rolledBack) {
            status.currentVersion = cluster.getSpec().version;
            status.lastStableSpec = cluster.getSpec();
        }
        if (settled && status.rollout != null && status.rollout.phase != BrokerClusterStatus.Phase.RolledBack) {
            status.rollout.phase = BrokerClusterStatus.Phase.Complete;
            status.rollout.message = "every broker runs the current template";
        }
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
