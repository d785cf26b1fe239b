package io.capstan.broker.group;

import io.capstan.broker.DaemonThreads;
import io.capstan.broker.log.LogManager;
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
 * Coordinates every consumer group on this broker (a single broker coordinates all of them until replication
 * moves coordination with the offsets shard's leadership). Routes requests to their {@link Group}, runs the sweep
 * that expires silent members and ends rebalances whose time is up, and owns the committed offsets.
 */
public final class GroupCoordinator implements AutoCloseable {
    public static final int MAX_METADATA_BYTES = 4096;
    private static final long SWEEP_MS = 100;

    private final GroupSettings settings;
    private final OffsetStore offsets;
    private final LogManager logs;
    private final Map<String, Group> groups = new ConcurrentHashMap<>();
    private final ScheduledExecutorService sweeper = Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("capstan-group-sweep"));

    public GroupCoordinator(LogManager logs, GroupSettings settings) {
        this.logs = logs;
        this.settings = settings;
        this.offsets = new OffsetStore(logs, settings.offsetsCompactionBytes());
        sweeper.scheduleWithFixedDelay(this::sweep, SWEEP_MS, SWEEP_MS, TimeUnit.MILLISECONDS);
    }

    private void sweep() {
        long now = System.nanoTime();
        groups.values().forEach(g -> g.tick(now));
    }

    public CompletableFuture<JoinGroupResponseData> join(String groupId, JoinRequest request) {
        if (groupId == null || groupId.isEmpty()) {
            return CompletableFuture.completedFuture(new JoinGroupResponseData().setErrorCode(Errors.INVALID_GROUP_ID.code())
                    .setMemberId(request.memberId()).setLeader(""));
        }
        Group group = request.memberId().isEmpty() ? groups.computeIfAbsent(groupId, id -> new Group(id, settings)) : groups.get(groupId);
        if (group == null) {
            return CompletableFuture.completedFuture(new JoinGroupResponseData().setErrorCode(Errors.UNKNOWN_MEMBER_ID.code())
                    .setMemberId(request.memberId()).setLeader(""));
        }
        return group.join(request, System.nanoTime());
    }

    public CompletableFuture<SyncGroupResponseData> sync(String groupId, String memberId, String instanceId, int generation,
                                                         Map<String, byte[]> assignments) {
        Group group = groups.get(groupId);
        if (group == null) {
            return CompletableFuture.completedFuture(new SyncGroupResponseData().setErrorCode(Errors.UNKNOWN_MEMBER_ID.code()).setAssignment(new byte[0]));
        }
        return group.sync(memberId, instanceId, generation, assignments, System.nanoTime());
    }

    public Errors heartbeat(String groupId, String memberId, String instanceId, int generation) {
        Group group = groups.get(groupId);
        return group == null ? Errors.UNKNOWN_MEMBER_ID : group.heartbeat(memberId, instanceId, generation, System.nanoTime());
    }

    public Errors leave(String groupId, String memberId, String instanceId) {
        Group group = groups.get(groupId);
        return group == null ? Errors.UNKNOWN_MEMBER_ID : group.leave(memberId, instanceId, System.nanoTime());
    }

    /** Validates the committer's membership, then makes the offsets durable. Per-partition errors are filled in by the caller. */
    public CompletableFuture<Errors> commit(String groupId, String memberId, String instanceId, int generation,
                                            Map<TopicPartition, CommittedOffset> commits) {
        if (groupId == null || groupId.isEmpty()) {
            return CompletableFuture.completedFuture(Errors.INVALID_GROUP_ID);
        }
        Group group = groups.get(groupId);
        Errors check = group == null
                ? (generation < 0 ? Errors.NONE : Errors.UNKNOWN_MEMBER_ID)
                : group.commitCheck(memberId, instanceId, generation);
        if (check != Errors.NONE) {
            return CompletableFuture.completedFuture(check);
        }
        return offsets.commit(groupId, commits);
    }

    public CommittedOffset committed(String groupId, TopicPartition tp) {
        return offsets.get(groupId, tp);
    }

    public Map<TopicPartition, CommittedOffset> committed(String groupId) {
        return offsets.all(groupId);
    }

    /** Every group known from membership or from committed offsets. */
    public List<GroupView> list() {
        List<GroupView> views = new ArrayList<>();
        groups.values().forEach(g -> views.add(g.view()));
        for (String id : offsets.groups()) {
            if (!groups.containsKey(id)) {
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
        return offsets.groups().contains(groupId) ? emptyView(groupId)
                : new GroupView(groupId, GroupState.DEAD, 0, "", "", null, List.of(), 0);
    }

    private static GroupView emptyView(String id) {
        return new GroupView(id, GroupState.EMPTY, 0, "consumer", "", null, List.of(), 0);
    }

    /** Deletes an empty group and its offsets; NON_EMPTY_GROUP while it has members. */
    public CompletableFuture<Errors> delete(String groupId) {
        Group group = groups.get(groupId);
        if (group == null && !offsets.groups().contains(groupId)) {
            return CompletableFuture.completedFuture(Errors.GROUP_ID_NOT_FOUND);
        }
        if (group != null && !group.markDeadIfEmpty()) {
            return CompletableFuture.completedFuture(Errors.NON_EMPTY_GROUP);
        }
        groups.remove(groupId);
        return offsets.delete(groupId);
    }

    public Collection<String> groupIds() {
        return list().stream().map(GroupView::groupId).toList();
    }

    public LogManager logs() {
        return logs;
    }

    /** Rewrites the live committed offsets and drops the history before them (normally automatic past a size). */
    public int compactOffsets() throws Exception {
        return offsets.compact();
    }

    @Override
    public void close() {
        sweeper.shutdownNow();
        offsets.close();
    }
}
