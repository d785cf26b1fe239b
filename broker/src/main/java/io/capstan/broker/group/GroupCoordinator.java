package io.capstan.broker.group;

import io.capstan.cluster.DaemonThreads;
import io.capstan.broker.log.LogManager;
import io.capstan.broker.log.Shard;
import io.capstan.broker.group.modern.ConsumerGroup;
import io.capstan.broker.group.modern.ConsumerGroupSettings;
import io.capstan.broker.group.modern.ConsumerGroupView;
import io.capstan.broker.group.modern.Heartbeat;
import io.capstan.broker.group.modern.TopicImage;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.message.JoinGroupResponseData;
import org.apache.kafka.common.message.SyncGroupResponseData;
import org.apache.kafka.common.protocol.Errors;

/**
 * Coordinates the consumer groups. A broker alone coordinates all of them from its local offsets shard. In a cluster
 * the leader of the replicated offsets shard coordinates: it becomes coordinator when it takes that leadership
 * (loading the offsets its log holds) and stops when it loses it (members are sent to the new coordinator). Routes
 * requests to their {@link Group}, runs the sweep that expires silent members and ends rebalances whose time is up,
 * and owns the committed offsets.
 */
public final class GroupCoordinator implements AutoCloseable {
    public static final int MAX_METADATA_BYTES = 4096;
    private static final long SWEEP_MS = 100;

    private final GroupSettings settings;
    private volatile OffsetStore offsets;
    private final LogManager logs;
    private final Map<String, Group> groups = new ConcurrentHashMap<>();
    /** Consumer-protocol groups (KIP-848). A group id is in one map or the other, never both (changed under {@code this}). */
    private final Map<String, ConsumerGroup> consumerGroups = new ConcurrentHashMap<>();
    private final ConsumerGroupSettings consumerSettings;
    private final TopicImage topics;
    /** Consumer-protocol member changes go to the replicated offsets shard before members hear of them. */
    private final io.capstan.broker.group.modern.Journal journal = (group, records) -> {
        OffsetStore current = offsets;
        return current == null ? CompletableFuture.completedFuture(Errors.NOT_COORDINATOR) : current.writeMembers(group, records);
    };
    private final ScheduledExecutorService sweeper = Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("capstan-group-sweep"));

    /** Idle until {@link #activate} (this broker leads the offsets shard). */
    public GroupCoordinator(LogManager logs, GroupSettings settings, ConsumerGroupSettings consumerSettings, TopicImage topics) {
        this.logs = logs;
        this.settings = settings;
        this.consumerSettings = consumerSettings;
        this.topics = topics;
        sweeper.scheduleWithFixedDelay(this::sweep, SWEEP_MS, SWEEP_MS, TimeUnit.MILLISECONDS);
    }

    /**
     * This broker now leads the offsets shard in {@code epoch}: load its offsets and coordinate. Called again when the
     * epoch moves while it leads: the groups start over (their members rejoin) under a store writing in the new epoch.
     */
    public synchronized void activate(Shard shard, int epoch, OffsetStore.Replicated replicated) {
        deactivate();
        offsets = new OffsetStore(logs, shard, epoch, settings.offsetsCompactionBytes(), replicated);
        long now = System.nanoTime();
        offsets.members().forEach((groupId, records) -> {
            List<io.capstan.broker.group.modern.MemberCodec.Stored> stored = new ArrayList<>();
            records.values().forEach(r -> stored.add(io.capstan.broker.group.modern.MemberCodec.decode(java.nio.ByteBuffer.wrap(r))));
            consumerGroups.put(groupId, ConsumerGroup.restore(groupId, consumerSettings, topics, journal, stored, now));
        });
        notifyAll();
    }

    /** Waits until this broker coordinates groups; false if it does not within the timeout. */
    public synchronized boolean awaitCoordinating(java.time.Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (offsets == null) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
        return true;
    }

    /** This broker no longer leads the offsets shard: forget the groups; their members find the new coordinator. */
    public synchronized void deactivate() {
        OffsetStore old = offsets;
        offsets = null;
        groups.values().forEach(g -> g.abandon(Errors.NOT_COORDINATOR));
        groups.clear();
        consumerGroups.clear();
        if (old != null) {
            old.close();
        }
    }

    public boolean coordinating() {
        return offsets != null;
    }

    private OffsetStore offsets() {
        OffsetStore current = offsets;
        if (current == null) {
            throw new NotCoordinatorException();
        }
        return current;
    }

    /** Thrown when a request races with this broker losing the coordinator role; answered NOT_COORDINATOR. */
    public static final class NotCoordinatorException extends RuntimeException {
        NotCoordinatorException() {
            super("this broker is not the group coordinator", null, false, false);
        }
    }

    private void sweep() {
        long now = System.nanoTime();
        groups.values().forEach(g -> g.tick(now));
        consumerGroups.values().forEach(g -> g.tick(now));
    }

    // ------------------------------------------------------------------ the consumer protocol (KIP-848)

    /**
     * ConsumerGroupHeartbeat. A member joining (epoch 0) creates the group; a classic group with that id becomes a
     * consumer group (its committed offsets stay, its members go on under the classic protocol inside it); one whose
     * members do not use the consumer protocol is refused GROUP_ID_NOT_FOUND, as Kafka answers when it cannot convert.
     */
    public Heartbeat.Result consumerHeartbeat(String groupId, Heartbeat heartbeat) {
        offsets();
        ConsumerGroup group = consumerGroups.get(groupId);
        if (group == null) {
            synchronized (this) {
                group = consumerGroups.get(groupId);
                Group classic = groups.get(groupId);
                if (group == null && classic != null) {
                    if (heartbeat.memberEpoch() != Heartbeat.JOIN_EPOCH) {
                        return Heartbeat.Result.error(Errors.UNKNOWN_MEMBER_ID, "group " + groupId + " is a classic group; rejoin with epoch 0");
                    }
                    if (classic.markDeadIfEmpty()) {
                        groups.remove(groupId);
                    } else {
                        group = upgrade(groupId, classic);
                        if (group == null) {
                            return Heartbeat.Result.error(Errors.GROUP_ID_NOT_FOUND, "group " + groupId + " is a classic group whose members"
                                    + " do not use the consumer protocol (protocol type other than \"consumer\"); it cannot take"
                                    + " group.protocol=consumer members");
                        }
                    }
                }
                if (group == null) {
                    if (heartbeat.memberEpoch() != Heartbeat.JOIN_EPOCH) {
                        return Heartbeat.Result.error(Errors.UNKNOWN_MEMBER_ID, "group " + groupId + " has no member " + heartbeat.memberId()
                                + "; rejoin with epoch 0");
                    }
                    group = new ConsumerGroup(groupId, consumerSettings, topics, journal);
                    consumerGroups.put(groupId, group);
                }
            }
        }
        return group.heartbeat(heartbeat, System.nanoTime());
    }

    /** Online upgrade: the classic group's members move into a new consumer-protocol group; null if they cannot. */
    private ConsumerGroup upgrade(String groupId, Group classic) {
        Group.HandOver handOver = classic.handOver();
        if (handOver == null) {
            return null;
        }
        ConsumerGroup upgraded;
        try {
            upgraded = ConsumerGroup.fromClassic(groupId, consumerSettings, topics, journal, handOver.generation(), handOver.members(),
                    System.nanoTime());
        } catch (io.capstan.broker.group.modern.GroupError e) {
            return null; // a member's subscription is not the consumer protocol's: the classic group is dead; its members rejoin
        } finally {
            groups.remove(groupId);
        }
        consumerGroups.put(groupId, upgraded);
        return upgraded;
    }

    /** The consumer-protocol group, or null when the id names none (a classic group or nothing). */
    public ConsumerGroupView describeConsumerGroup(String groupId) {
        offsets();
        ConsumerGroup group = consumerGroups.get(groupId);
        return group == null ? null : group.view();
    }

    public List<ConsumerGroupView> consumerGroups() {
        List<ConsumerGroupView> views = new ArrayList<>();
        if (offsets != null) {
            consumerGroups.values().forEach(g -> views.add(g.view()));
        }
        return views;
    }

    /** OffsetFetch v9+ names the member and its epoch: checked against a consumer-protocol group. */
    public Errors fetchCheck(String groupId, String memberId, int memberEpoch) {
        ConsumerGroup group = consumerGroups.get(groupId);
        return group == null ? Errors.NONE : group.fetchCheck(memberId, memberEpoch);
    }

    public CompletableFuture<JoinGroupResponseData> join(String groupId, JoinRequest request) {
        if (groupId == null || groupId.isEmpty()) {
            return CompletableFuture.completedFuture(new JoinGroupResponseData().setErrorCode(Errors.INVALID_GROUP_ID.code())
                    .setMemberId(request.memberId()).setLeader(""));
        }
        ConsumerGroup modern = consumerGroups.get(groupId);
        if (modern != null) {
            synchronized (this) {
                if (!modern.markDeadIfEmpty()) {
                    // a classic member of a consumer-protocol group (an application part way through moving protocols)
                    return modern.classicJoin(new io.capstan.broker.group.modern.ClassicJoin(
                            request.memberId(), request.instanceId(), request.clientId(), request.clientHost(), request.sessionTimeoutMs(),
                            request.rebalanceTimeoutMs(), request.protocolType(), request.protocols(), request.requireKnownMemberId()),
                            System.nanoTime());
                }
                consumerGroups.remove(groupId, modern);
            }
        }
        Group group = request.memberId().isEmpty() ? groups.computeIfAbsent(groupId, id -> new Group(id, settings)) : groups.get(groupId);
        if (group == null) {
            return CompletableFuture.completedFuture(new JoinGroupResponseData().setErrorCode(Errors.UNKNOWN_MEMBER_ID.code())
                    .setMemberId(request.memberId()).setLeader(""));
        }
        return group.join(request, System.nanoTime());
    }

    public CompletableFuture<SyncGroupResponseData> sync(String groupId, String memberId, String instanceId, int generation,
                                                         String protocolType, String protocolName, Map<String, byte[]> assignments) {
        ConsumerGroup modern = consumerGroups.get(groupId);
        if (modern != null) {
            return CompletableFuture.completedFuture(modern.classicSync(memberId, instanceId, generation, protocolType, protocolName, System.nanoTime()));
        }
        Group group = groups.get(groupId);
        if (group == null) {
            return CompletableFuture.completedFuture(new SyncGroupResponseData().setErrorCode(Errors.UNKNOWN_MEMBER_ID.code()).setAssignment(new byte[0]));
        }
        return group.sync(memberId, instanceId, generation, assignments, System.nanoTime());
    }

    public Errors heartbeat(String groupId, String memberId, String instanceId, int generation) {
        ConsumerGroup modern = consumerGroups.get(groupId);
        if (modern != null) {
            return modern.classicHeartbeat(memberId, instanceId, generation, System.nanoTime());
        }
        Group group = groups.get(groupId);
        return group == null ? Errors.UNKNOWN_MEMBER_ID : group.heartbeat(memberId, instanceId, generation, System.nanoTime());
    }

    public Errors leave(String groupId, String memberId, String instanceId) {
        ConsumerGroup modern = consumerGroups.get(groupId);
        if (modern != null) {
            return modern.classicLeave(memberId, instanceId);
        }
        Group group = groups.get(groupId);
        return group == null ? Errors.UNKNOWN_MEMBER_ID : group.leave(memberId, instanceId, System.nanoTime());
    }

    /** Validates the committer's membership, then makes the offsets durable. Per-partition errors are filled in by the caller. */
    /** {@code apiVersion} is OffsetCommit's (a consumer-protocol member must use v9+). */
    public CompletableFuture<Errors> commit(String groupId, String memberId, String instanceId, int generation, short apiVersion,
                                            Map<TopicPartition, CommittedOffset> commits) {
        if (groupId == null || groupId.isEmpty()) {
            return CompletableFuture.completedFuture(Errors.INVALID_GROUP_ID);
        }
        Group group = groups.get(groupId);
        ConsumerGroup modern = consumerGroups.get(groupId);
        Errors check = modern != null ? modern.commitCheck(memberId, generation, apiVersion, false)
                : group == null ? (generation < 0 ? Errors.NONE : Errors.UNKNOWN_MEMBER_ID)
                : group.commitCheck(memberId, instanceId, generation);
        if (check != Errors.NONE) {
            return CompletableFuture.completedFuture(check);
        }
        OffsetStore current = offsets;
        return current == null ? CompletableFuture.completedFuture(Errors.NOT_COORDINATOR) : current.commit(groupId, commits);
    }

    /**
     * TxnOffsetCommit: membership checked as for a commit when the producer names it (KIP-447), then the offsets are
     * written as part of the producer's transaction.
     */
    public CompletableFuture<Errors> commitTransactional(String groupId, String memberId, String instanceId, int generation,
                                                         long producerId, short producerEpoch, Map<TopicPartition, CommittedOffset> commits) {
        if (groupId == null || groupId.isEmpty()) {
            return CompletableFuture.completedFuture(Errors.INVALID_GROUP_ID);
        }
        Group group = groups.get(groupId);
        ConsumerGroup modern = consumerGroups.get(groupId);
        Errors check = modern != null ? transactionalCheck(modern.commitCheck(memberId, generation, Short.MAX_VALUE, true))
                : generation < 0 && (memberId == null || memberId.isEmpty()) ? Errors.NONE
                : group == null ? Errors.ILLEGAL_GENERATION : group.commitCheck(memberId, instanceId, generation);
        if (check != Errors.NONE) {
            return CompletableFuture.completedFuture(check);
        }
        OffsetStore current = offsets;
        return current == null ? CompletableFuture.completedFuture(Errors.NOT_COORDINATOR)
                : current.commitTransactional(groupId, producerId, producerEpoch, commits);
    }

    /** As Kafka: a transactional commit with a stale member epoch is told ILLEGAL_GENERATION (what producers understand). */
    private static Errors transactionalCheck(Errors check) {
        return check == Errors.STALE_MEMBER_EPOCH ? Errors.ILLEGAL_GENERATION : check;
    }

    /**
     * A transaction marker was appended to the offsets shard at {@code offset}: once replicated, the producer's pending
     * offsets commit or go. Completes with the replication's outcome after that.
     */
    public CompletableFuture<Errors> markerAppended(long producerId, boolean commit, long offset, CompletableFuture<Errors> replication) {
        OffsetStore current = offsets;
        return current == null ? replication : current.markerAppended(producerId, commit, offset, replication);
    }

    /** True while an undecided transaction holds an offset of this group and partition. */
    public boolean unstable(String groupId, TopicPartition tp) {
        OffsetStore current = offsets;
        return current != null && current.pendingFor(groupId, tp);
    }

    public CommittedOffset committed(String groupId, TopicPartition tp) {
        return offsets().get(groupId, tp);
    }

    public Map<TopicPartition, CommittedOffset> committed(String groupId) {
        return offsets().all(groupId);
    }

    /** Every group known from membership or from committed offsets. */
    public List<GroupView> list() {
        List<GroupView> views = new ArrayList<>();
        OffsetStore current = offsets;
        if (current == null) {
            return views; // groups are listed by their coordinator
        }
        groups.values().forEach(g -> views.add(g.view()));
        for (String id : current.groups()) {
            if (!groups.containsKey(id) && !consumerGroups.containsKey(id)) {
                views.add(emptyView(id));
            }
        }
        return views;
    }

    /** The group's state; a group known only from its offsets is Empty; an unknown group is Dead (as Kafka reports it). */
    public GroupView describe(String groupId) {
        Group group = groups.get(groupId);
        if (group != null) {
            return group.view();
        }
        if (consumerGroups.containsKey(groupId)) {
            return new GroupView(groupId, GroupState.DEAD, 0, "", "", null, List.of(), 0); // not a classic group
        }
        return offsets().groups().contains(groupId) ? emptyView(groupId)
                : new GroupView(groupId, GroupState.DEAD, 0, "", "", null, List.of(), 0);
    }

    private static GroupView emptyView(String id) {
        return new GroupView(id, GroupState.EMPTY, 0, "consumer", "", null, List.of(), 0);
    }

    /** Deletes an empty group and its offsets; NON_EMPTY_GROUP while it has members. */
    public CompletableFuture<Errors> delete(String groupId) {
        Group group = groups.get(groupId);
        OffsetStore current = offsets;
        if (current == null) {
            return CompletableFuture.completedFuture(Errors.NOT_COORDINATOR);
        }
        ConsumerGroup modern = consumerGroups.get(groupId);
        if (group == null && modern == null && !current.groups().contains(groupId)) {
            return CompletableFuture.completedFuture(Errors.GROUP_ID_NOT_FOUND);
        }
        if ((group != null && !group.markDeadIfEmpty()) || (modern != null && !modern.markDeadIfEmpty())) {
            return CompletableFuture.completedFuture(Errors.NON_EMPTY_GROUP);
        }
        groups.remove(groupId);
        consumerGroups.remove(groupId);
        return current.delete(groupId);
    }

    /** OffsetDelete's answer: an error for the whole group, or one per partition. */
    public record OffsetDeletion(Errors error, Map<TopicPartition, Errors> partitions) {}

    /**
     * OffsetDelete: removes the group's committed offsets of these partitions, as Kafka does: not for a topic a member
     * is subscribed to (GROUP_SUBSCRIBED_TO_TOPIC), not at all for a group with members that is not a consumer group
     * (NON_EMPTY_GROUP), GROUP_ID_NOT_FOUND for a group nobody knows.
     */
    public CompletableFuture<OffsetDeletion> deleteOffsets(String groupId, Collection<TopicPartition> partitions) {
        OffsetStore current = offsets;
        if (current == null) {
            return CompletableFuture.completedFuture(new OffsetDeletion(Errors.NOT_COORDINATOR, Map.of()));
        }
        Group group = groups.get(groupId);
        ConsumerGroup modern = consumerGroups.get(groupId);
        if (group == null && modern == null && !current.groups().contains(groupId)) {
            return CompletableFuture.completedFuture(new OffsetDeletion(Errors.GROUP_ID_NOT_FOUND, Map.of()));
        }
        java.util.Set<String> subscribed;
        if (modern != null) {
            subscribed = modern.subscribedTopics();
        } else {
            GroupView view = group == null ? emptyView(groupId) : group.view();
            if (view.state() == GroupState.DEAD) {
                return CompletableFuture.completedFuture(new OffsetDeletion(Errors.GROUP_ID_NOT_FOUND, Map.of()));
            }
            if (!view.members().isEmpty() && !"consumer".equals(view.protocolType())) {
                return CompletableFuture.completedFuture(new OffsetDeletion(Errors.NON_EMPTY_GROUP, Map.of()));
            }
            subscribed = SubscribedTopics.of(view);
        }
        Map<TopicPartition, Errors> results = new java.util.LinkedHashMap<>();
        java.util.Set<TopicPartition> deletable = new java.util.HashSet<>();
        for (TopicPartition tp : partitions) {
            if (subscribed == null || subscribed.contains(tp.topic())) {
                results.put(tp, Errors.GROUP_SUBSCRIBED_TO_TOPIC);
            } else {
                deletable.add(tp);
            }
        }
        return current.delete(groupId, deletable).thenApply(error -> {
            deletable.forEach(tp -> results.put(tp, error));
            return new OffsetDeletion(Errors.NONE, results);
        });
    }

    public Collection<String> groupIds() {
        List<String> ids = new ArrayList<>(list().stream().map(GroupView::groupId).toList());
        consumerGroups().forEach(g -> ids.add(g.groupId()));
        return ids;
    }

    public LogManager logs() {
        return logs;
    }

    /** Rewrites the live committed offsets and drops the history before them (normally automatic past a size). */
    public int compactOffsets() throws Exception {
        return offsets().compact();
    }

    @Override
    public void close() {
        sweeper.shutdownNow();
        OffsetStore current = offsets;
        if (current != null) {
            current.close();
        }
    }
}
