package io.capstan.operator.topics;

import io.capstan.operator.api.BrokerCluster;
import io.capstan.operator.api.CapstanTopic;
import io.capstan.operator.api.CapstanTopicSpec;
import io.capstan.operator.api.CapstanTopicStatus;
import io.capstan.operator.certs.ClusterCertificates;
import io.capstan.operator.reconcile.Conditions;
import io.capstan.operator.reconcile.NotReady;
import io.capstan.operator.reconcile.ResourceWriter;
import io.capstan.operator.resources.DesiredResources;
import io.capstan.operator.spec.SpecProblem;
import io.capstan.operator.users.ClusterAdmins;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.api.reconciler.Cleaner;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps each CapstanTopic's topic as its spec says, through the Kafka Admin API of its cluster: created, partitions
 * added, configs set and removed; what Kafka cannot do is refused in the Degraded condition; configs set through the
 * Kafka API are reported in the Drifted condition (or reverted). Level-triggered: drift is found within the resync interval (a minute by default). A
 * finalizer deletes the topic before the CapstanTopic goes.
 */
@ControllerConfiguration(name = "capstantopic")
public final class CapstanTopicReconciler implements Reconciler<CapstanTopic>, Cleaner<CapstanTopic> {
    private static final Logger log = LoggerFactory.getLogger(CapstanTopicReconciler.class);
    /** How often a Ready topic is compared with its cluster again; the chart's topics.resyncInterval (TOPIC_RESYNC_INTERVAL). */
    public static final Duration RESYNC = Duration.ofSeconds(60);
    static final Duration RETRY = Duration.ofSeconds(10);
    public static final String DRIFTED = "Drifted";

    private final KubernetesClient client;
    private final Admins admins;

    /** An admin client into a cluster, as the operator. */
    public interface Admins {
        Admin open(BrokerCluster cluster);

        /**
         * In a cluster: a secured cluster over its replication listener with the operator's certificate (a super user
         * there), an unsecured one through its client Service.
         */
        static Admins inCluster(KubernetesClient client, ResourceWriter writer) {
            ClusterCertificates certificates = new ClusterCertificates(client, writer::write,
                    io.capstan.operator.certs.CertificatePolicy.TRUST_PROPAGATION);
            ClusterAdmins secured = ClusterAdmins.overReplicationListener();
            return cluster -> {
                if (DesiredResources.secured(cluster)) {
                    var cas = certificates.read(cluster).orElseThrow(() -> new NotReady("CertificatesNotReady", "BrokerCluster "
                            + cluster.getMetadata().getName() + " has no CAs yet; the operator creates them on its next pass"));
                    return secured.open(cluster, cas.cluster());
                }
                Map<String, Object> config = new HashMap<>();
                config.put("bootstrap.servers", cluster.getMetadata().getName() + "." + cluster.getMetadata().getNamespace() + ".svc:9092");
                config.put("client.id", "capstan-operator");
                config.put("request.timeout.ms", 10_000);
                config.put("default.api.timeout.ms", 20_000);
                return Admin.create(config);
            };
        }
    }


    private Duration resync;

    /** Compares each Ready topic with its cluster every {@code interval} (drift is found within it). */
    public CapstanTopicReconciler withResync(Duration interval) {
        this.resync = interval;
        return this;
    }

    public CapstanTopicReconciler(KubernetesClient client, Admins admins) {
        this.client = client;
        this.admins = admins;
        this.resync = RESYNC;
    }

    static String topicName(CapstanTopic topic) {
        String name = topic.getSpec().topicName;
        return name == null || name.isBlank() ? topic.getMetadata().getName() : name;
    }

    @Override
    public UpdateControl<CapstanTopic> reconcile(CapstanTopic topic, Context<CapstanTopic> context) {
        CapstanTopicStatus status = topic.getStatus() == null ? new CapstanTopicStatus() : topic.getStatus();
        topic.setStatus(status);
        long generation = topic.getMetadata().getGeneration() == null ? 0 : topic.getMetadata().getGeneration();
        String who = topic.getMetadata().getNamespace() + "/" + topic.getMetadata().getName();
        String name = topicName(topic);
        status.observedGeneration = generation;
        status.topicName = name;
        try {
            BrokerCluster cluster = cluster(topic).orElseThrow(() -> new NotReady("ClusterNotFound", "BrokerCluster "
                    + topic.getSpec().cluster + " does not exist in namespace " + topic.getMetadata().getNamespace()
                    + "; create it or fix spec.cluster"));
            try (Admin admin = admins.open(cluster)) {
                TopicPlan.Plan plan = TopicPlan.decide(wanted(topic.getSpec()), observe(admin, name), new HashSet<>(status.appliedConfigs));
                apply(admin, name, topic.getSpec(), plan, who);
                status.appliedConfigs = new ArrayList<>(new java.util.TreeSet<>(topic.getSpec().config.keySet()));
                report(status, describe(admin, name), plan, generation);
            }
            return UpdateControl.patchStatus(topic).rescheduleAfter(resync);
        } catch (NotReady e) {
            log.info("{}: not ready: {}", who, e.getMessage());
            Conditions.set(status.conditions, Conditions.READY, false, e.reason(), e.getMessage(), generation);
        } catch (RuntimeException | ExecutionException | TimeoutException e) {
            String message = e instanceof ExecutionException && e.getCause() != null ? e.getCause().toString() : e.toString();
            log.warn("{}: cannot apply the topic to its cluster: {}", who, message);
            Conditions.set(status.conditions, Conditions.READY, false, "ClusterUnreachable", "cannot apply topic " + name
                    + " to BrokerCluster " + topic.getSpec().cluster + ": " + message + "; retried every " + RETRY.toSeconds()
                    + " s (check that its brokers are ready)", generation);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return UpdateControl.patchStatus(topic).rescheduleAfter(RETRY);
    }

    @Override
    public DeleteControl cleanup(CapstanTopic topic, Context<CapstanTopic> context) {
        String who = topic.getMetadata().getNamespace() + "/" + topic.getMetadata().getName();
        String name = topicName(topic);
        BrokerCluster cluster = cluster(topic).orElse(null);
        if (cluster == null) {
            log.info("{}: deleted; its cluster {} is gone, and the topic with it", who, topic.getSpec().cluster);
            return DeleteControl.defaultDelete();
        }
        try (Admin admin = admins.open(cluster)) {
            admin.deleteTopics(List.of(name)).all().get(30, TimeUnit.SECONDS);
            log.info("{}: deleted; topic {} deleted from {}", who, name, cluster.getMetadata().getName());
            return DeleteControl.defaultDelete();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof UnknownTopicOrPartitionException) {
                return DeleteControl.defaultDelete();
            }
            log.warn("{}: cannot delete topic {} yet (retrying): {}", who, name, e.getCause());
            return DeleteControl.noFinalizerRemoval().rescheduleAfter(RETRY);
        } catch (TimeoutException | RuntimeException e) {
            log.warn("{}: cannot delete topic {} yet (retrying): {}", who, name, e.toString());
            return DeleteControl.noFinalizerRemoval().rescheduleAfter(RETRY);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return DeleteControl.noFinalizerRemoval().rescheduleAfter(RETRY);
        }
    }

    private Optional<BrokerCluster> cluster(CapstanTopic topic) {
        return Optional.ofNullable(client.resources(BrokerCluster.class).inNamespace(topic.getMetadata().getNamespace())
                .withName(topic.getSpec().cluster).get());
    }

    static TopicPlan.Wanted wanted(CapstanTopicSpec spec) {
        return new TopicPlan.Wanted(spec.partitions, spec.replicationFactor, spec.config == null ? Map.of() : spec.config,
                "Revert".equals(spec.onDrift));
    }

    /** The topic as the cluster has it, or null when it has none of that name. */
    private static TopicPlan.Observed observe(Admin admin, String name) throws ExecutionException, InterruptedException, TimeoutException {
        TopicDescription d = describe(admin, name);
        if (d == null) {
            return null;
        }
        ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, name);
        Map<String, String> explicit = new TreeMap<>();
        admin.describeConfigs(List.of(resource)).all().get(30, TimeUnit.SECONDS).get(resource).entries().stream()
                .filter(e -> e.source() == ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG && e.value() != null)
                .forEach(e -> explicit.put(e.name(), e.value()));
        return new TopicPlan.Observed(d.partitions().size(), d.partitions().get(0).replicas().size(), explicit);
    }

    private static TopicDescription describe(Admin admin, String name) throws ExecutionException, InterruptedException, TimeoutException {
        try {
            return admin.describeTopics(List.of(name)).allTopicNames().get(30, TimeUnit.SECONDS).get(name);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof UnknownTopicOrPartitionException) {
                return null;
            }
            throw e;
        }
    }

    private static void apply(Admin admin, String name, CapstanTopicSpec spec, TopicPlan.Plan plan, String who)
            throws ExecutionException, InterruptedException, TimeoutException {
        if (plan.create()) {
            NewTopic topic = new NewTopic(name, Optional.of(spec.partitions),
                    Optional.ofNullable(spec.replicationFactor == null ? null : spec.replicationFactor.shortValue())).configs(plan.set());
            admin.createTopics(List.of(topic)).all().get(30, TimeUnit.SECONDS);
            log.info("{}: created topic {} ({} partitions)", who, name, spec.partitions);
            return;
        }
        if (plan.growTo() > 0) {
            admin.createPartitions(Map.of(name, NewPartitions.increaseTo(plan.growTo()))).all().get(30, TimeUnit.SECONDS);
            log.info("{}: topic {} grown to {} partitions", who, name, plan.growTo());
        }
        if (!plan.set().isEmpty() || !plan.remove().isEmpty()) {
            List<AlterConfigOp> ops = new ArrayList<>();
            plan.set().forEach((k, v) -> ops.add(new AlterConfigOp(new ConfigEntry(k, v), AlterConfigOp.OpType.SET)));
            plan.remove().forEach(k -> ops.add(new AlterConfigOp(new ConfigEntry(k, null), AlterConfigOp.OpType.DELETE)));
            admin.incrementalAlterConfigs(Map.of(new ConfigResource(ConfigResource.Type.TOPIC, name), ops)).all().get(30, TimeUnit.SECONDS);
            log.info("{}: topic {} configs set {} removed {}", who, name, plan.set().keySet(), plan.remove());
        }
    }

    /** The status from the topic as described after the changes, and the conditions from the plan. */
    static void report(CapstanTopicStatus status, TopicDescription d, TopicPlan.Plan plan, long generation) {
        status.shards = new ArrayList<>();
        if (d != null) {
            status.partitions = d.partitions().size();
            status.replicationFactor = d.partitions().get(0).replicas().size();
            d.partitions().forEach(p -> {
                CapstanTopicStatus.Shard s = new CapstanTopicStatus.Shard();
                s.partition = p.partition();
                s.leader = p.leader() == null || p.leader().isEmpty() ? -1 : p.leader().id();
                s.replicas = p.replicas().stream().map(Node::id).toList();
                s.isr = p.isr().stream().map(Node::id).toList();
                status.shards.add(s);
            });
        }
        boolean exists = d != null;
        long offline = status.shards.stream().filter(s -> s.leader < 0).count();
        Conditions.set(status.conditions, Conditions.READY, exists && offline == 0, !exists ? "NotCreated" : offline > 0 ? "PartitionsOffline" : "Applied",
                !exists ? "the topic was not found after it was created; the next pass looks again"
                        : offline > 0 ? offline + " of " + status.partitions + " partitions have no leader" : "the topic is as its spec says"
                        + (plan.refused().isEmpty() ? "" : ", except what Degraded names"), generation);
        if (plan.refused().isEmpty()) {
            Conditions.set(status.conditions, Conditions.DEGRADED, false, "SpecApplied", "every field is applied", generation);
        } else {
            Conditions.set(status.conditions, Conditions.DEGRADED, true, "ChangeRefused",
                    plan.refused().stream().map(SpecProblem::toString).collect(Collectors.joining("; ")), generation);
        }
        if (plan.drift().isEmpty()) {
            Conditions.set(status.conditions, DRIFTED, false, "InStep", "no config is set on the topic outside its spec", generation);
        } else {
            Conditions.set(status.conditions, DRIFTED, true, "ConfigSetOutsideSpec", "set through the Kafka API, not in spec.config: "
                    + plan.drift().entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(", "))
                    + " (add them to spec.config to keep them, or set spec.onDrift: Revert)", generation);
        }
    }
}
