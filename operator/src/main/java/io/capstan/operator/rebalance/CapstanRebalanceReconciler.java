package io.capstan.operator.rebalance;

import io.capstan.cluster.planner.AssignmentPlanner;
import io.capstan.cluster.planner.AssignmentPlanner.ShardId;
import io.capstan.cluster.planner.LoadRebalancer;
import io.capstan.operator.api.BrokerCluster;
import io.capstan.operator.api.CapstanRebalance;
import io.capstan.operator.api.CapstanRebalanceSpec;
import io.capstan.operator.api.CapstanRebalanceStatus;
import io.capstan.operator.reconcile.Conditions;
import io.capstan.operator.reconcile.NotReady;
import io.capstan.operator.topics.CapstanTopicReconciler.Admins;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.api.reconciler.Cleaner;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.LongSupplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Measures, proposes and, once approved, carries out a CapstanRebalance ({@link RebalanceStep} decides each pass;
 * this class reads the cluster and acts). The first count of each shard's traffic is kept in memory: an operator that
 * restarts while sampling simply measures again.
 */
@ControllerConfiguration(name = "capstanrebalance")
public final class CapstanRebalanceReconciler implements Reconciler<CapstanRebalance>, Cleaner<CapstanRebalance> {
    private static final Logger log = LoggerFactory.getLogger(CapstanRebalanceReconciler.class);
    static final Duration POLL = Duration.ofSeconds(5);
    static final Duration RETRY = Duration.ofSeconds(10);
    public static final String PROPOSAL_READY = "ProposalReady";

    private final KubernetesClient client;
    private final Admins admins;
    private final TrafficSource traffic;
    private final LongSupplier nanos;
    private final Map<String, TrafficSample> firstSamples = new ConcurrentHashMap<>();

    public CapstanRebalanceReconciler(KubernetesClient client, Admins admins, TrafficSource traffic, LongSupplier nanos) {
        this.client = client;
        this.admins = admins;
        this.traffic = traffic;
        this.nanos = nanos;
    }

    @Override
    public UpdateControl<CapstanRebalance> reconcile(CapstanRebalance rebalance, Context<CapstanRebalance> context) {
        CapstanRebalanceStatus status = rebalance.getStatus() == null ? new CapstanRebalanceStatus() : rebalance.getStatus();
        rebalance.setStatus(status);
        CapstanRebalanceSpec spec = rebalance.getSpec();
        long generation = rebalance.getMetadata().getGeneration() == null ? 0 : rebalance.getMetadata().getGeneration();
        status.observedGeneration = generation;
        String who = rebalance.getMetadata().getNamespace() + "/" + rebalance.getMetadata().getName();
        String uid = rebalance.getMetadata().getUid();
        try {
            BrokerCluster cluster = cluster(rebalance);
            long window = TimeUnit.SECONDS.toNanos(spec.sampleSeconds);
            TrafficSample first = firstSamples.get(uid);
            long age = first == null ? -1 : nanos.getAsLong() - first.atNanos();
            try (Admin admin = admins.open(cluster)) {
                ProposalExecution execution = new ProposalExecution(admin);
                List<CapstanRebalanceStatus.Target> targets = status.proposal == null ? List.of() : status.proposal.targets;
                int running = RebalanceStep.EXECUTING.equals(status.phase) ? execution.running(targets) : 0;
                String proposalId = status.proposal == null ? null : status.proposal.id;
                RebalanceStep step = RebalanceStep.next(status.phase, age, window, spec.approvedProposal, proposalId, running > 0);
                // the cluster answered: an earlier problem (unreachable, a wrong approval) is over unless this pass finds it again
                Conditions.set(status.conditions, Conditions.DEGRADED, false, "ClusterReachable", "the cluster's brokers answer", generation);
                switch (step) {
                    case FIRST_SAMPLE -> {
                        firstSamples.put(uid, sample(cluster));
                        phase(status, RebalanceStep.SAMPLING, "measuring each shard's bytes in and out for " + spec.sampleSeconds + " s", generation);
                        return UpdateControl.patchStatus(rebalance).rescheduleAfter(Duration.ofNanos(window));
                    }
                    case WAIT_FOR_WINDOW -> {
                        return UpdateControl.patchStatus(rebalance).rescheduleAfter(Duration.ofNanos(Math.max(window - age, 1_000_000)));
                    }
                    case PROPOSE -> {
                        propose(rebalance, cluster, admin, first, generation, who);
                        return UpdateControl.patchStatus(rebalance);
                    }
                    case WAIT_FOR_APPROVAL -> {
                        approvalMismatch(status, spec.approvedProposal, generation);
                        return UpdateControl.patchStatus(rebalance);
                    }
                    case EXECUTE -> {
                        execute(rebalance, admin, execution, generation, who);
                        return UpdateControl.patchStatus(rebalance).rescheduleAfter(POLL);
                    }
                    case WAIT_FOR_MOVES -> {
                        status.message = running + " of " + targets.size() + " reassignments still copying, throttled to "
                                + spec.throttleBytesPerSecond + " B/s per broker";
                        return UpdateControl.patchStatus(rebalance).rescheduleAfter(POLL);
                    }
                    case FINISH -> {
                        return finish(rebalance, execution, generation, who);
                    }
                    case NOTHING -> {
                        return UpdateControl.noUpdate();
                    }
                    default -> throw new IllegalStateException("unknown step " + step);
                }
            }
        } catch (NotReady e) {
            log.info("{}: {}", who, e.getMessage());
            Conditions.set(status.conditions, Conditions.DEGRADED, true, e.reason(), e.getMessage(), generation);
        } catch (RuntimeException | ExecutionException | TimeoutException e) {
            String message = e instanceof ExecutionException && e.getCause() != null ? e.getCause().toString() : e.toString();
            log.warn("{}: {}", who, message);
            Conditions.set(status.conditions, Conditions.DEGRADED, true, "ClusterUnreachable", message + "; retried every "
                    + RETRY.toSeconds() + " s (check that the cluster's brokers are ready)", generation);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return UpdateControl.patchStatus(rebalance).rescheduleAfter(RETRY);
    }

    private void propose(CapstanRebalance rebalance, BrokerCluster cluster, Admin admin, TrafficSample first, long generation, String who)
            throws ExecutionException, InterruptedException, TimeoutException {
        CapstanRebalanceStatus status = rebalance.getStatus();
        CapstanRebalanceSpec spec = rebalance.getSpec();
        TrafficSample later = sample(cluster);
        firstSamples.remove(rebalance.getMetadata().getUid());
        Map<ShardId, LoadRebalancer.ShardLoad> loads = later.ratesSince(first);
        Layout layout = Layout.read(admin);
        LoadRebalancer.Proposal proposal = LoadRebalancer.propose(layout.brokers(), layout.current(), loads,
                new LoadRebalancer.Limits(spec.maxMoves, spec.tolerancePercent / 100.0, LoadRebalancer.Limits.DEFAULT.minGain()));
        status.proposal = RebalanceProposal.of(proposal, layout.current());
        if (proposal.moves().isEmpty()) {
            phase(status, RebalanceStep.BALANCED, "the busiest broker carries " + status.proposal.maxOverMeanBefore + " times the mean"
                    + " load; nothing worth moving (tolerance " + spec.tolerancePercent + " %). Create a new CapstanRebalance to measure again", generation);
        } else {
            phase(status, RebalanceStep.PROPOSED, proposal.moves().size() + " changes would take the busiest broker from "
                    + status.proposal.maxOverMeanBefore + " to " + status.proposal.maxOverMeanAfter + " times the mean load; set"
                    + " spec.approvedProposal to " + status.proposal.id + " to carry them out", generation);
        }
        log.info("{}: {}", who, status.message);
    }

    private static void approvalMismatch(CapstanRebalanceStatus status, String approved, long generation) {
        if (approved != null && !approved.isEmpty()) {
            Conditions.set(status.conditions, Conditions.DEGRADED, true, "UnknownProposal", "spec.approvedProposal " + approved
                    + " is not this rebalance's proposal (" + status.proposal.id + "); nothing was changed", generation);
        }
    }

    private void execute(CapstanRebalance rebalance, Admin admin, ProposalExecution execution, long generation, String who)
            throws ExecutionException, InterruptedException, TimeoutException {
        CapstanRebalanceStatus status = rebalance.getStatus();
        Layout layout = Layout.read(admin);
        String now = RebalanceProposal.id(layout.current(), status.proposal.moves);
        if (!now.equals(status.proposal.id)) {
            firstSamples.remove(rebalance.getMetadata().getUid());
            phase(status, RebalanceStep.SAMPLING, "the cluster's assignment changed since proposal " + status.proposal.id
                    + " was made, so it was not carried out; measuring again for a new one", generation);
            status.proposal = null;
            return;
        }
        Map<TopicPartition, List<Integer>> current = new TreeMap<>(java.util.Comparator.comparing(TopicPartition::toString));
        layout.current().forEach((shard, replicas) -> current.put(new TopicPartition(shard.topic(), shard.partition()), replicas));
        ProposalExecution.Throttles throttles = ProposalExecution.throttles(status.proposal.targets, current);
        status.throttledBrokers = List.copyOf(throttles.brokers());
        status.throttledTopics = List.copyOf(throttles.topics());
        execution.start(status.proposal.targets, throttles, rebalance.getSpec().throttleBytesPerSecond);
        phase(status, RebalanceStep.EXECUTING, "proposal " + status.proposal.id + " approved: " + status.proposal.targets.size()
                + " reassignments submitted, copies throttled to " + rebalance.getSpec().throttleBytesPerSecond + " B/s per broker", generation);
        log.info("{}: {}", who, status.message);
    }

    private UpdateControl<CapstanRebalance> finish(CapstanRebalance rebalance, ProposalExecution execution, long generation, String who)
            throws ExecutionException, InterruptedException, TimeoutException {
        CapstanRebalanceStatus status = rebalance.getStatus();
        Map<TopicPartition, String> notLeading = execution.finish(status.proposal.targets, throttledBrokers(status), throttledTopics(status));
        if (!notLeading.isEmpty()) {
            status.message = "every copy is in sync; leadership not handed over yet for " + notLeading + "; retrying";
            return UpdateControl.patchStatus(rebalance).rescheduleAfter(POLL);
        }
        status.throttledBrokers = null;
        status.throttledTopics = null;
        phase(status, RebalanceStep.DONE, "proposal " + status.proposal.id + " carried out: " + status.proposal.moveCount
                + " changes, the throttle removed", generation);
        log.info("{}: {}", who, status.message);
        return UpdateControl.patchStatus(rebalance);
    }

    /** Where executing set the throttle, as the status recorded it. */
    private static Set<Integer> throttledBrokers(CapstanRebalanceStatus status) {
        return status.throttledBrokers == null ? Set.of() : new java.util.TreeSet<>(status.throttledBrokers);
    }

    private static Set<String> throttledTopics(CapstanRebalanceStatus status) {
        return status.throttledTopics == null ? Set.of() : new java.util.TreeSet<>(status.throttledTopics);
    }

    private static void phase(CapstanRebalanceStatus status, String phase, String message, long generation) {
        status.phase = phase;
        status.message = message;
        boolean settled = !phase.equals(RebalanceStep.SAMPLING) && !phase.equals(RebalanceStep.EXECUTING);
        Conditions.set(status.conditions, Conditions.PROGRESSING, !settled, phase, message, generation);
        Conditions.set(status.conditions, Conditions.READY, settled, phase, message, generation);
        if (phase.equals(RebalanceStep.PROPOSED)) {
            Conditions.set(status.conditions, PROPOSAL_READY, true, "AwaitingApproval", message, generation);
        }
    }

    /** Deleting a rebalance while it moves replicas removes its throttle; the moves themselves go on unthrottled. */
    @Override
    public DeleteControl cleanup(CapstanRebalance rebalance, Context<CapstanRebalance> context) {
        firstSamples.remove(rebalance.getMetadata().getUid());
        CapstanRebalanceStatus status = rebalance.getStatus();
        if (status == null || status.throttledBrokers == null) {
            return DeleteControl.defaultDelete();
        }
        BrokerCluster cluster = findCluster(rebalance);
        if (cluster == null) {
            return DeleteControl.defaultDelete();
        }
        try (Admin admin = admins.open(cluster)) {
            new ProposalExecution(admin).clear(throttledBrokers(status), throttledTopics(status));
            return DeleteControl.defaultDelete();
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            log.warn("{}/{}: cannot remove the replication throttle yet (retrying): {}", rebalance.getMetadata().getNamespace(),
                    rebalance.getMetadata().getName(), e.toString());
            return DeleteControl.noFinalizerRemoval().rescheduleAfter(RETRY);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return DeleteControl.noFinalizerRemoval().rescheduleAfter(RETRY);
        }
    }

    /** The rebalance's cluster, or null when it does not exist. */
    private BrokerCluster findCluster(CapstanRebalance rebalance) {
        return client.resources(BrokerCluster.class).inNamespace(rebalance.getMetadata().getNamespace()).withName(rebalance.getSpec().cluster).get();
    }

    private BrokerCluster cluster(CapstanRebalance rebalance) {
        BrokerCluster cluster = findCluster(rebalance);
        if (cluster == null) {
            throw new NotReady("ClusterNotFound", "BrokerCluster " + rebalance.getSpec().cluster + " does not exist in namespace "
                    + rebalance.getMetadata().getNamespace() + "; create it or fix spec.cluster");
        }
        return cluster;
    }

    private TrafficSample sample(BrokerCluster cluster) {
        Map<Integer, Map<ShardId, TrafficSample.Counted>> byBroker = new TreeMap<>();
        traffic.scrape(cluster).forEach((broker, text) -> byBroker.put(broker, TrafficSample.parse(text)));
        return new TrafficSample(nanos.getAsLong(), byBroker);
    }

    /** The brokers (with racks) and every topic's replicas, each list with the shard's current leader first. */
    record Layout(List<AssignmentPlanner.Broker> brokers, Map<ShardId, List<Integer>> current) {
        static Layout read(Admin admin) throws ExecutionException, InterruptedException, TimeoutException {
            List<AssignmentPlanner.Broker> brokers = new ArrayList<>();
            for (Node n : admin.describeCluster().nodes().get(30, TimeUnit.SECONDS)) {
                brokers.add(new AssignmentPlanner.Broker(n.id(), n.rack()));
            }
            Set<String> names = admin.listTopics().names().get(30, TimeUnit.SECONDS);
            Map<ShardId, List<Integer>> current = new TreeMap<>();
            for (TopicDescription d : admin.describeTopics(names).allTopicNames().get(30, TimeUnit.SECONDS).values()) {
                d.partitions().forEach(p -> {
                    List<Integer> replicas = new ArrayList<>(p.replicas().stream().map(Node::id).toList());
                    if (p.leader() != null && !p.leader().isEmpty() && replicas.remove(Integer.valueOf(p.leader().id()))) {
                        replicas.add(0, p.leader().id());
                    }
                    current.put(new ShardId(d.name(), p.partition()), replicas);
                });
            }
            return new Layout(brokers, current);
        }
    }

}
