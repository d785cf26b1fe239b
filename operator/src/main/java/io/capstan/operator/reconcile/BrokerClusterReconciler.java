package io.capstan.operator.reconcile;

import io.capstan.operator.api.BrokerCluster;
import io.capstan.operator.api.BrokerClusterStatus;
import io.capstan.operator.resources.DesiredResources;
import io.capstan.operator.resources.ExternalListeners;
import io.capstan.operator.resources.Labels;
import io.capstan.operator.spec.SpecProblem;
import io.capstan.operator.spec.SpecValidator;
import io.capstan.operator.api.BrokerClusterSpec;
import io.capstan.operator.shards.ClusterControllers;
import io.capstan.operator.shards.ClusterMetadata;
import io.capstan.operator.shards.ScalePlan;
import io.capstan.operator.storage.VolumePlan;
import io.capstan.operator.version.ClusterVersionPlan;
import io.javaoperatorsdk.operator.api.reconciler.Cleaner;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
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
import java.util.Optional;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One pass is named steps: paused? → validate → observe (an {@link ObservedCluster}, from informer caches) → scale →
 * render and apply → roll out → status ({@link StatusFunction}, from what was observed and decided). Paused clusters
 * are left alone (and say so); an invalid spec changes nothing that runs and is reported in a Degraded/InvalidSpec
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
    private final AppliedObjects applied = new AppliedObjects();
    private final io.capstan.operator.storage.Volumes volumes;
    private final io.capstan.operator.nodes.NodeLoss nodeLoss;
    private io.capstan.operator.certs.ClusterCertificates certificates;
    private final io.capstan.operator.certs.AdminToken adminToken;
    private EventRecorder events = EventRecorder.NONE;
    private OperatorMetrics metrics = OperatorMetrics.unregistered();
    private PassTracer tracer = PassTracer.OFF;
    private io.capstan.operator.spec.ImagePolicy images = io.capstan.operator.spec.ImagePolicy.ANY;
    private boolean nodeReaderBindings = true;

    /** Production wiring: the brokers' metadata store in the API server, a failover controller per cluster, Events. */
    public BrokerClusterReconciler(KubernetesClient client, ResourceWriter writer, RestartSafetyProbe safety, OperatorMetrics metrics) {
        this(client, writer, safety, new ClusterControllers(client, 1000));
        this.events = EventRecorder.kubernetes(client);
        this.metrics = metrics;
        metrics.bindControllers(controllers::counters);
    }

    private BrokerClusterReconciler(KubernetesClient client, ResourceWriter writer, RestartSafetyProbe safety, ClusterControllers controllers) {
        this(client, writer, safety, ClusterMetadata.kubernetes(client, controllers), controllers, System::currentTimeMillis);
    }

    public BrokerClusterReconciler(KubernetesClient client, ResourceWriter writer, RestartSafetyProbe safety,
                                   ClusterMetadata metadata, ClusterControllers controllers, java.util.function.LongSupplier clock) {
        this.client = client;
        this.writer = writer;
        this.volumes = new io.capstan.operator.storage.Volumes(client);
        this.nodeLoss = new io.capstan.operator.nodes.NodeLoss(client);
        this.safety = safety;
        this.metadata = metadata;
        this.controllers = controllers;
        this.clock = clock;
        this.certificates = new io.capstan.operator.certs.ClusterCertificates(client, writer::write);
        this.adminToken = new io.capstan.operator.certs.AdminToken(client, writer::write);
    }

    /** Where reconcile figures go (tests read them). */
    public BrokerClusterReconciler withMetrics(OperatorMetrics metrics) {
        this.metrics = metrics;
        return this;
    }

    /** Which registries spec.image may name (the chart's allowedImageRegistries). */
    public BrokerClusterReconciler withImagePolicy(io.capstan.operator.spec.ImagePolicy images) {
        this.images = images;
        return this;
    }

    /**
     * Whether this operator binds each rack-aware cluster's brokers to the node-reader ClusterRole. Not in the chart's
     * namespaced mode: the operator holds no cluster-wide rights there, and the chart binds each watched namespace's
     * service accounts itself.
     */
    public BrokerClusterReconciler withNodeReaderBindings(boolean manage) {
        this.nodeReaderBindings = manage;
        return this;
    }

    /** How long a new CA is trusted before certificates it signed are served (the chart's certificates.trustPropagation). */
    public BrokerClusterReconciler withTrustPropagation(Duration trustPropagation) {
        this.certificates = new io.capstan.operator.certs.ClusterCertificates(client, writer::write, trustPropagation);
        return this;
    }

    /** Where Events go (tests record them). */
    /** Traces every pass (OFF by default). */
    public BrokerClusterReconciler withTracing(PassTracer tracer) {
        this.tracer = tracer;
        return this;
    }

    public BrokerClusterReconciler withEvents(EventRecorder events) {
        this.events = events;
        return this;
    }

    /**
     * Broker pods, their volumes' claims and the StatefulSet as secondary sources: a pass reads them from these
     * informers' caches (no LIST or GET per pass), and a rollout, a scale step or a volume resize moves on as soon as a
     * pod or claim changes, rather than at the next resync. The StatefulSet maps to its BrokerCluster by owner
     * reference, pods, claims and Services by their instance label.
     */
    @Override
    public List<io.javaoperatorsdk.operator.processing.event.source.EventSource<?, BrokerCluster>> prepareEventSources(
            io.javaoperatorsdk.operator.api.reconciler.EventSourceContext<BrokerCluster> context) {
        var pods = brokerObjects(Pod.class, "broker-pods");
        var claims = brokerObjects(io.fabric8.kubernetes.api.model.PersistentVolumeClaim.class, "broker-volumes");
        // external listeners' Services: a node port allocated or a load-balancer address assigned is published to the brokers
        var services = brokerObjects(io.fabric8.kubernetes.api.model.Service.class, "broker-services");
        var statefulSets = io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration.from(StatefulSet.class, BrokerCluster.class)
                .withName("broker-statefulsets")
                .withLabelSelector(Labels.NAME + "=capstan," + Labels.COMPONENT + "=broker")
                .build();
        return List.of(new io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource<>(pods, context),
                new io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource<>(claims, context),
                new io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource<>(services, context),
                new io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource<>(statefulSets, context));
    }

    /** An informer on the cluster's objects of {@code kind} (by the broker labels), each mapped to its BrokerCluster. */
    private static <R extends HasMetadata> io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration<R> brokerObjects(
            Class<R> kind, String name) {
        return io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration.from(kind, BrokerCluster.class)
                .withName(name)
                .withLabelSelector(Labels.NAME + "=capstan," + Labels.COMPONENT + "=broker")
                .withSecondaryToPrimaryMapper(BrokerClusterReconciler::byInstanceLabel)
                .build();
    }

    private static java.util.Set<io.javaoperatorsdk.operator.processing.event.ResourceID> byInstanceLabel(HasMetadata o) {
        String instance = o.getMetadata().getLabels() == null ? null : o.getMetadata().getLabels().get(Labels.INSTANCE);
        return instance == null ? java.util.Set.of()
                : java.util.Set.of(new io.javaoperatorsdk.operator.processing.event.ResourceID(instance, o.getMetadata().getNamespace()));
    }

    @Override
    public DeleteControl cleanup(BrokerCluster cluster, Context<BrokerCluster> context) {
        if (controllers != null) {
            controllers.stop(cluster);
        }
        deleteNodeReaderBinding(cluster);
        metrics.forget(cluster.getMetadata().getNamespace(), cluster.getMetadata().getName());
        log.info("{}/{}: deleted; its objects go with it (owner references)", cluster.getMetadata().getNamespace(), cluster.getMetadata().getName());
        return DeleteControl.defaultDelete();
    }

    @Override
    public UpdateControl<BrokerCluster> reconcile(BrokerCluster cluster, Context<BrokerCluster> context) {
        return UpdateControl.patchStatus(reconcile(cluster, Observer.cached(context, metadata, clock))).rescheduleAfter(RESYNC);
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

    /** The one object owner references cannot remove (cluster-scoped, see DesiredResources.nodeReaderBinding). */
    private void deleteNodeReaderBinding(BrokerCluster cluster) {
        if (!nodeReaderBindings) {
            return;
        }
        client.rbac().clusterRoleBindings().withName(DesiredResources.nodeReaderBindingName(cluster)).delete();
    }

    private boolean serviceMonitorsInstalled() {
        return client.apiextensions().v1().customResourceDefinitions().withName("servicemonitors.monitoring.coreos.com").get() != null;
    }

    private static BrokerCluster withSpec(BrokerCluster cluster, BrokerClusterSpec spec) {
        BrokerCluster copy = new BrokerCluster();
        copy.setMetadata(cluster.getMetadata());
        copy.setSpec(spec);
        copy.setStatus(cluster.getStatus());
        return copy;
    }

    /** One pass reading the API server directly (outside JOSDK); returns the cluster with its new status. */
    public BrokerCluster reconcile(BrokerCluster cluster) {
        return reconcile(cluster, Observer.direct(client, metadata, clock));
    }

    /** One pass; returns the cluster with its new status (the caller writes the status). */
    public BrokerCluster reconcile(BrokerCluster cluster, Observer observer) {
        long start = System.nanoTime();
        int[] calls = ApiCalls.start();
        String previousDegraded = cluster.getStatus() == null ? null : degradedReason(cluster.getStatus());
        String outcome = "error";
        tracer.begin();
        try {
            BrokerCluster done = reconcileOnce(cluster, observer);
            String degraded = degradedReason(done.getStatus());
            if (degraded != null && !degraded.equals(previousDegraded)) {
                var condition = Conditions.get(done.getStatus().conditions, Conditions.DEGRADED);
                events.warning(done, condition.getReason(), condition.getMessage());
            }
            outcome = degraded == null ? "ok" : "degraded";
            metrics.reconciled(outcome, System.nanoTime() - start);
            return done;
        } catch (RuntimeException e) {
            metrics.reconciled("error", System.nanoTime() - start);
            throw e;
        } finally {
            metrics.apiCalls(calls[0]);
            tracer.end(cluster, outcome, start, System.nanoTime(), calls[0]);
            ApiCalls.stop();
        }
    }

    /** A step of the pass began at {@code startNanos} and ended now; returns now, the next step's start. */
    private long step(String name, long startNanos) {
        long now = metrics.step(name, startNanos);
        tracer.step(name, startNanos, now);
        return now;
    }

    /** The reason of a True Degraded condition, with its message, or null. */
    private static String degradedReason(BrokerClusterStatus status) {
        var c = status == null || status.conditions == null ? null : Conditions.get(status.conditions, Conditions.DEGRADED);
        return c == null || !"True".equals(c.getStatus()) ? null : c.getReason() + ": " + c.getMessage();
    }

    private BrokerCluster reconcileOnce(BrokerCluster cluster, Observer observer) {
        String name = cluster.getMetadata().getNamespace() + "/" + cluster.getMetadata().getName();
        long generation = cluster.getMetadata().getGeneration() == null ? 0 : cluster.getMetadata().getGeneration();
        BrokerClusterStatus status = cluster.getStatus() == null ? new BrokerClusterStatus() : cluster.getStatus();
        cluster.setStatus(status);
        status.selector = Labels.selectorString(cluster.getMetadata().getName());
        status.metadataKind = io.capstan.operator.shards.MetadataKind.decide(status);
        if (paused(cluster, status, generation) || invalid(cluster, status, generation)) {
            return cluster;
        }
        boolean rolledBack = rolledBack(status, generation);
        if (controllers != null) {
            controllers.ensure(cluster);
        }
        // observe once: what runs now is what the steps decide on and what the status reports
        long step = System.nanoTime();
        ObservedCluster observed = observer.observe(cluster);
        step = step("observe", step);
        Integer balancedFor = status.shards == null ? null : status.shards.balancedFor;
        status.shards = StatusFunction.shardHealth(observed.shards(), balancedFor);
        ScalePlan.Decision scale = scale(observed, balancedFor, name);
        BrokerClusterSpec running = rolledBack ? status.lastStableSpec : cluster.getSpec();
        VolumePlan.Decision volumePlan = io.capstan.operator.storage.Volumes.plan(running, observed.statefulSet(), observed.claims());
        Rendered rendered = render(observed, scale, rolledBack, volumePlan.template());
        step = step("plan", step);
        adminToken.ensure(cluster); // before the brokers: a pod cannot start without the Secrets it mounts
        if (DesiredResources.secured(cluster)) {
            int brokers = Math.max(scale.statefulSetReplicas(), observed.runningBrokers());
            certificates.ensure(cluster, brokers, ExternalListeners.certificateNames(cluster, brokers, observed.services(), observed.pods()),
                    java.time.Instant.ofEpochMilli(observed.nowMs()));
        }
        step = step("certificates", step);
        Optional<String> routesProblem = apply(observed, rendered, name);
        step = step("apply", step);
        volumePlan = volumes.resize(observed.namespace(), volumePlan, (claim, size) -> {
            log.info("{}: growing volume {} to {}", name, claim, size);
            metrics.action("volume_resize");
            events.normal(cluster, "ResizingVolume", "growing " + claim + " to " + size + " (spec.storage.size)");
        });
        step = step("volumes", step);
        replaceBrokersOnLostNodes(observed, status, generation, name);
        step = step("node_loss", step);
        RollingRestart.Decision rollout = new RolloutStep(client, safety, metrics, events).next(observed, rendered.templateHash(), rolledBack);
        step = step("rollout", step);
        // the rollout step may have rolled back in this very pass
        StatusFunction.settle(status, observed, scale, volumePlan, rollout, rolledBack(status, generation));
        routesProblem.ifPresent(problem -> StatusFunction.routesUnavailable(status, cluster, problem, generation));
        raiseClusterVersion(observed, status, StatusFunction.settled(observed, rollout) && !rolledBack(status, generation), name);
        step("status", step);
        metrics.rollout(observed.namespace(), observed.name(), status.rollout == null || status.rollout.phase == null ? null
                : status.rollout.phase.name(), status.rollout == null ? null : status.rollout.step);
        return cluster;
    }

    /**
     * spec.clusterVersion: once a rollout has settled, raises the cluster version to what every broker supports
     * ({@link ClusterVersionPlan}) and records it in status, whose {@code restartedFor} the next pass renders into the
     * pod template, so the brokers restart one at a time, health-gated, to use what the new level allows.
     */
    private void raiseClusterVersion(ObservedCluster observed, BrokerClusterStatus status, boolean settled, String name) {
        BrokerCluster cluster = observed.cluster();
        ClusterVersionPlan.Observed seen = observed.clusterVersion();
        BrokerClusterStatus.ClusterVersion out = status.clusterVersion == null ? new BrokerClusterStatus.ClusterVersion() : status.clusterVersion;
        status.clusterVersion = out;
        if (seen == null) {
            out.message = "waiting for the brokers to register";
            return;
        }
        out.finalized = seen.finalized();
        out.supportedByAllBrokers = seen.supportedByAll();
        ClusterVersionPlan.Decision decision = ClusterVersionPlan.decide(cluster.getSpec().clusterVersion, seen, settled);
        out.message = decision.message();
        if (decision.raiseTo() == 0) {
            return;
        }
        var outcome = metadata.finalizeClusterVersion(cluster, decision.raiseTo());
        if (outcome instanceof io.capstan.cluster.version.ClusterVersionChange.Refused refused) {
            out.message = refused.reason();
            log.warn("{}: capstan.version not raised to {}: {}", name, decision.raiseTo(), refused.reason());
            events.warning(cluster, "ClusterVersionNotRaised", refused.reason());
            return;
        }
        log.info("{}: raised capstan.version from {} to {}; the brokers restart one at a time to use it", name, seen.finalized(), decision.raiseTo());
        metrics.action("cluster_version_raise");
        events.normal(cluster, "ClusterVersionRaised", "capstan.version raised from " + seen.finalized() + " to " + decision.raiseTo()
                + "; restarting the brokers one at a time to use it");
        out.finalized = decision.raiseTo();
        out.restartedFor = decision.raiseTo();
    }

    /** spec.nodeLoss: a broker whose node stopped reporting is started elsewhere (NodeLossPlan decides). */
    private void replaceBrokersOnLostNodes(ObservedCluster observed, BrokerClusterStatus status, long generation, String name) {
        BrokerCluster cluster = observed.cluster();
        java.util.Set<Integer> alive = observed.aliveBrokers().stream().map(io.capstan.cluster.planner.AssignmentPlanner.Broker::id)
                .collect(Collectors.toSet());
        var decision = nodeLoss.handle(cluster, observed.pods(), observed.claims(), observed.shards(), alive, observed.nowMs());
        if (decision.replace() != null) {
            log.warn("{}: deleting pod {}{}: {}", name, decision.replace().pod(), decision.replace().releaseClaim() == null ? ""
                    : " and its claim " + decision.replace().releaseClaim(), decision.replace().reason());
            metrics.action("node_loss_replace");
            events.warning(cluster, "ReplacingBrokerOnLostNode", decision.replace().reason());
        }
        if (decision.waiting().isEmpty()) {
            status.conditions.removeIf(c -> Conditions.BROKER_ON_LOST_NODE.equals(c.getType()));
        } else {
            String message = String.join("; ", decision.waiting());
            log.warn("{}: {}", name, message);
            Conditions.set(status.conditions, Conditions.BROKER_ON_LOST_NODE, true, "Waiting", message, generation);
        }
    }

    /** This generation's spec was rolled back: the last stable spec runs instead, until the spec changes. */
    private static boolean rolledBack(BrokerClusterStatus status, long generation) {
        return status.rollout != null && status.rollout.rolledBackGeneration != null
                && status.rollout.rolledBackGeneration == generation && status.lastStableSpec != null;
    }

    /** Paused clusters are left alone, and say so. */
    private static boolean paused(BrokerCluster cluster, BrokerClusterStatus status, long generation) {
        boolean paused = Boolean.TRUE.equals(cluster.getSpec().paused)
                || "true".equalsIgnoreCase(cluster.getMetadata().getAnnotations() == null ? null
                : cluster.getMetadata().getAnnotations().get(PAUSED_ANNOTATION));
        if (paused) {
            Conditions.set(status.conditions, Conditions.PAUSED, true, "Paused",
                    "spec.paused or the capstan.io/paused annotation is set; nothing is changed until it is removed", generation);
            log.info("{}/{}: reconciliation paused", cluster.getMetadata().getNamespace(), cluster.getMetadata().getName());
            return true;
        }
        Conditions.set(status.conditions, Conditions.PAUSED, false, "Reconciling", "changes are applied", generation);
        return false;
    }

    /**
     * An invalid spec changes nothing that runs; the Degraded condition names each field. A valid spec.image that no
     * registry policy restricts is run, with the ImageUnrestricted condition saying so.
     */
    private boolean invalid(BrokerCluster cluster, BrokerClusterStatus status, long generation) {
        List<SpecProblem> problems = new java.util.ArrayList<>(SpecValidator.validate(cluster.getSpec()));
        images.check(cluster.getSpec().image).ifPresent(problems::add);
        if (problems.isEmpty()) {
            String image = cluster.getSpec().image;
            if (image != null && !image.isBlank() && !images.restricts()) {
                Conditions.set(status.conditions, Conditions.IMAGE_UNRESTRICTED, true, "AnyRegistry", "spec.image " + image
                        + " runs as given: this operator allows images from any registry (set allowedImageRegistries in its chart's values"
                        + " to restrict them)", generation);
            } else {
                status.conditions.removeIf(c -> Conditions.IMAGE_UNRESTRICTED.equals(c.getType()));
            }
            return false;
        }
        String message = problems.stream().map(SpecProblem::toString).collect(Collectors.joining("; "))
                + " (the running brokers are left as they are; fix the BrokerCluster to continue)";
        Conditions.set(status.conditions, Conditions.DEGRADED, true, "InvalidSpec", message, generation);
        Conditions.set(status.conditions, Conditions.READY, false, "InvalidSpec", "the spec is invalid; see Degraded", generation);
        status.observedGeneration = generation;
        log.warn("{}/{}: invalid spec: {}", cluster.getMetadata().getNamespace(), cluster.getMetadata().getName(), message);
        return true;
    }

    /** How many brokers the StatefulSet should run now, and which shards move first (ScalePlan decides). */
    private ScalePlan.Decision scale(ObservedCluster observed, Integer balancedFor, String name) {
        BrokerCluster cluster = observed.cluster();
        ScalePlan.Decision scale = ScalePlan.decide(cluster.getSpec().replicas, observed.runningBrokers(), balancedFor,
                observed.aliveBrokers(), observed.shards());
        scale.reassign().forEach((id, replicas) -> {
            log.info("{}: moving {}-{} to brokers {} ({})", name, id.topic(), id.partition(), replicas, scale.message());
            metadata.reassign(cluster, id.topic(), id.partition(), replicas);
            metrics.action("shard_move");
            events.normal(cluster, "MovingShard", "moving " + id.topic() + "-" + id.partition() + " to brokers " + replicas
                    + " (" + scale.message() + ")");
        });
        return scale;
    }

    /**
     * Every owned object as the spec renders it (the last stable spec after a rollback), the pod template's hash, and
     * the TLSRoutes, written apart since their CRD may be missing.
     */
    private record Rendered(List<HasMetadata> objects, String templateHash, List<HasMetadata> tlsRoutes) {}

    private Rendered render(ObservedCluster observed, ScalePlan.Decision scale, boolean rolledBack, VolumePlan.Template claims) {
        BrokerCluster cluster = observed.cluster();
        BrokerCluster running = rolledBack ? withSpec(cluster, cluster.getStatus().lastStableSpec) : cluster;
        List<HasMetadata> objects = new java.util.ArrayList<>(DesiredResources.all(running, scale.statefulSetReplicas(),
                claims.size(), claims.storageClass(), observed.services()));
        String templateHash = objects.stream().filter(StatefulSet.class::isInstance).findFirst()
                .map(sts -> sts.getMetadata().getAnnotations().get(DesiredResources.TEMPLATE_HASH)).orElse(null);
        if (cluster.getSpec().rack != null && nodeReaderBindings) {
            objects.add(DesiredResources.nodeReaderBinding(cluster));
        }
        return new Rendered(objects, templateHash,
                ExternalListeners.tlsRoutes(running, scale.statefulSetReplicas()));
    }

    /**
     * Writes what was rendered and needs writing ({@link AppliedObjects}); the node-reader binding goes when racks are
     * off; a ServiceMonitor and TLSRoutes only where their CRDs are. What keeps TLSRoutes from being written, if anything.
     */
    private Optional<String> apply(ObservedCluster observed, Rendered rendered, String name) {
        BrokerCluster cluster = observed.cluster();
        for (HasMetadata desired : rendered.objects()) {
            boolean watched = desired instanceof StatefulSet;
            if (applied.due(desired, watched, watched ? observed.statefulSet() : null, observed.nowMs())) {
                applied.written(desired, writer.write(desired), observed.nowMs());
            }
        }
        if (cluster.getSpec().rack == null) {
            deleteNodeReaderBinding(cluster);
        }
        for (var stale : ExternalListeners.stale(observed.services(), rendered.objects())) {
            log.info("{}: deleting Service {} (its broker or external listener is gone)", name, stale.getMetadata().getName());
            client.services().inNamespace(observed.namespace()).withName(stale.getMetadata().getName()).delete();
        }
        Optional<String> routesProblem = Optional.empty();
        if (!rendered.tlsRoutes().isEmpty()) {
            routesProblem = tlsRoutesProblem();
            if (routesProblem.isEmpty()) {
                for (HasMetadata route : rendered.tlsRoutes()) {
                    if (applied.due(route, false, null, observed.nowMs())) {
                        applied.written(route, writer.write(route), observed.nowMs());
                    }
                }
            } else {
                log.warn("{}: {}", name, routesProblem.get());
            }
        }
        List<HasMetadata> routes = new java.util.ArrayList<>(rendered.objects());
        routes.addAll(rendered.tlsRoutes());
        for (var stale : ExternalListeners.staleRoutes(observed.services(), routes)) {
            log.info("{}: deleting {} {} (its broker or listener is gone, or the listener changed type)", name, stale.kind(), stale.name());
            deleteRoute(observed.namespace(), stale);
        }
        if (cluster.getSpec().metrics != null && Boolean.TRUE.equals(cluster.getSpec().metrics.serviceMonitor)) {
            if (serviceMonitorsInstalled()) {
                writer.write(DesiredResources.serviceMonitor(cluster));
            } else {
                log.info("{}: spec.metrics.serviceMonitor is set but the ServiceMonitor CRD (Prometheus Operator) is not installed", name);
            }
        }
        return routesProblem;
    }

    /** Why TLSRoutes cannot be written here (their CRD missing, or without the v1 this operator writes), if so. */
    private Optional<String> tlsRoutesProblem() {
        var crd = client.apiextensions().v1().customResourceDefinitions().withName(ExternalListeners.TLS_ROUTE_CRD).get();
        if (crd == null) {
            return Optional.of("a listener of type tlsroute needs Gateway API's TLSRoute, whose CRD (" + ExternalListeners.TLS_ROUTE_CRD
                    + ") is not installed: install Gateway API v1.5 or later (standard channel), or use type ingress, nodeport or loadbalancer");
        }
        boolean servesV1 = crd.getSpec().getVersions().stream().anyMatch(v -> "v1".equals(v.getName()) && Boolean.TRUE.equals(v.getServed()));
        return servesV1 ? Optional.empty() : Optional.of("the installed TLSRoute CRD does not serve " + ExternalListeners.TLS_ROUTE_API_VERSION
                + " (Gateway API before v1.5): upgrade Gateway API to v1.5 or later");
    }

    private void deleteRoute(String namespace, ExternalListeners.StaleRoute stale) {
        try {
            if ("Ingress".equals(stale.kind())) {
                client.network().v1().ingresses().inNamespace(namespace).withName(stale.name()).delete();
            } else {
                client.genericKubernetesResources(ExternalListeners.TLS_ROUTE_API_VERSION, "TLSRoute").inNamespace(namespace)
                        .withName(stale.name()).delete();
            }
        } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
            if (e.getCode() != 404) {
                throw e;
            }
        }
    }
}
