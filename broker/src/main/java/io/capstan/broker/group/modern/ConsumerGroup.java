package io.capstan.broker.group.modern;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import java.nio.ByteBuffer;
import org.apache.kafka.clients.consumer.ConsumerPartitionAssignor;
import org.apache.kafka.clients.consumer.internals.ConsumerProtocol;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.JoinGroupResponseData;
import org.apache.kafka.common.message.SyncGroupResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One group under the consumer protocol (KIP-848). A member's change of subscription, a member joining or leaving, or
 * a change of the subscribed topics bumps the group epoch; the assignor then computes a target assignment for that
 * epoch; each member moves towards its target in its own heartbeats ({@link Reconciliation}), so members that keep
 * their partitions never stop. Every method is synchronized: a group is small and its operations are short. Time comes
 * in as an argument so tests drive it. Members are written to a {@link Journal} (the replicated offsets shard) and
 * told of a change only once it is durable; a new coordinator {@link #restore}s the group from it.
 */
public final class ConsumerGroup {
    private static final Logger log = LoggerFactory.getLogger(ConsumerGroup.class);

    /** Kafka's consumer group states, as tools display them. */
    public enum State {
        EMPTY("Empty"), ASSIGNING("Assigning"), RECONCILING("Reconciling"), STABLE("Stable"), DEAD("Dead");

        private final String kafkaName;

        State(String kafkaName) {
            this.kafkaName = kafkaName;
        }

        public String kafkaName() {
            return kafkaName;
        }
    }

    private record Revocation(int epoch, long deadlineNanos) {}

    private static final String CONSUMER_PROTOCOL_TYPE = "consumer";
    /** How often a heartbeat looks again at what subscriptions resolve to (topics created, partitions added). */
    private static final long METADATA_REFRESH_NANOS = 1_000_000_000L;

    private final String groupId;
    private final ConsumerGroupSettings settings;
    private final TopicImage topics;
    private final Journal journal;
    private final Map<String, ConsumerMember> members = new LinkedHashMap<>();
    /** Each member as last sent to the journal, and the changes since (null: the member is gone). */
    private final Map<String, ConsumerMember> written = new HashMap<>();
    private final Map<String, ConsumerMember> unwritten = new LinkedHashMap<>();
    private final Map<String, String> staticMembers = new HashMap<>();
    private final Map<String, Long> sessionDeadlines = new HashMap<>();
    private final Map<String, Revocation> revocations = new HashMap<>();
    /** Which member epoch holds each partition now (assigned or awaiting revocation). */
    private final Map<Uuid, Map<Integer, Integer>> holders = new HashMap<>();
    private final Map<String, Pattern> patterns = new HashMap<>();
    private Map<String, Assignment> target = new HashMap<>();
    private Map<String, PartitionAssignor.Topic> subscribed = Map.of();
    private int groupEpoch;
    private int assignmentEpoch;
    private long metadataRefreshDue = Long.MIN_VALUE / 2;
    private String assignorName;
    private boolean dead;

    public ConsumerGroup(String groupId, ConsumerGroupSettings settings, TopicImage topics, Journal journal) {
        this.groupId = groupId;
        this.settings = settings;
        this.topics = topics;
        this.journal = journal;
        this.assignorName = settings.assignors().get(0).name();
    }

    public String groupId() {
        return groupId;
    }

    // ------------------------------------------------------------------ heartbeat

    public synchronized Heartbeat.Result heartbeat(Heartbeat h, long now) {
        try {
            if (dead) {
                throw new GroupError(Errors.COORDINATOR_NOT_AVAILABLE, "group " + groupId + " is being deleted; retry");
            }
            if (h.serverAssignor() != null && settings.assignor(h.serverAssignor()) == null) {
                throw new GroupError(Errors.UNSUPPORTED_ASSIGNOR, "assignor " + h.serverAssignor() + " is not one of "
                        + settings.assignors().stream().map(PartitionAssignor::name).toList() + " (group.consumer.assignors)");
            }
            if (h.subscribedTopicRegex() != null && !h.subscribedTopicRegex().isEmpty()) {
                pattern(h.subscribedTopicRegex());
            }
            Heartbeat.Result result = h.memberEpoch() < 0 ? leave(h, now) : beat(h, now);
            CompletableFuture<Errors> durable = flush();
            return new Heartbeat.Result(result.error(), result.errorMessage(), result.memberId(), result.memberEpoch(),
                    result.heartbeatIntervalMs(), result.assignment(), durable);
        } catch (GroupError e) {
            flush(); // what changed before the refusal (a static member replaced, say) is still kept
            return Heartbeat.Result.error(e.error(), e.getMessage());
        }
    }

    /** Sends the changes since the last flush to the journal, in one append, now; completes once they are durable. */
    private CompletableFuture<Errors> flush() {
        if (unwritten.isEmpty()) {
            return Heartbeat.Result.NOTHING_TO_WRITE;
        }
        Map<String, byte[]> records = new LinkedHashMap<>();
        unwritten.forEach((id, m) -> {
            records.put(id, m == null ? null : MemberCodec.encode(groupEpoch, m));
            if (m == null) {
                written.remove(id);
            } else {
                written.put(id, m);
            }
        });
        unwritten.clear();
        CompletableFuture<Errors> durable = journal.write(groupId, records);
        durable.thenAccept(error -> {
            if (error != Errors.NONE) {
                synchronized (this) {
                    records.keySet().forEach(written::remove); // not known durable: written again at the member's next change
                }
            }
        });
        return durable;
    }

    private Heartbeat.Result beat(Heartbeat h, long now) {
        boolean joining = h.memberEpoch() == Heartbeat.JOIN_EPOCH;
        ConsumerMember before = h.instanceId() == null ? dynamicMember(h, joining) : staticMember(h, joining);
        ConsumerMember updated = before.updated(h.instanceId(), h.rackId(), h.rebalanceTimeoutMs(), h.subscribedTopicNames(),
                h.subscribedTopicRegex(), h.serverAssignor(), h.clientId(), h.clientHost()).withClassic(null);
        ConsumerMember next = advance(before, updated, h.ownedPartitions(), now, settings.sessionTimeoutMs());
        boolean sendAssignment = h.full() || !next.assigned().equals(before.assigned());
        return new Heartbeat.Result(Errors.NONE, null, next.memberId(), next.memberEpoch(), settings.heartbeatIntervalMs(),
                sendAssignment ? next.assigned() : null, null);
    }

    /**
     * One step of a member, whichever protocol it uses: its updated subscription may bump the group epoch (as may a change
     * of the subscribed topics), a new epoch gets a new target assignment, then the member moves towards its target.
     */
    private ConsumerMember advance(ConsumerMember before, ConsumerMember updated, Assignment owned, long now, int sessionTimeoutMs) {
        boolean bump = !members.containsKey(updated.memberId()) || !updated.sameSubscription(before);
        put(updated);
        if (bump || now - metadataRefreshDue >= 0) {
            // what the subscriptions resolve to: looked at on a subscription change, else at most once a second
            metadataRefreshDue = now + METADATA_REFRESH_NANOS;
            Map<String, PartitionAssignor.Topic> metadata = subscriptionMetadata();
            if (!metadata.equals(subscribed)) {
                subscribed = metadata;
                bump = true;
            }
        }
        if (bump) {
            groupEpoch++;
            log.info("group {}: epoch {} ({} members)", groupId, groupEpoch, members.size());
        }
        if (groupEpoch > assignmentEpoch) {
            computeTarget();
        }
        ConsumerMember next = Reconciliation.next(updated, assignmentEpoch, target.getOrDefault(updated.memberId(), Assignment.EMPTY),
                this::holderEpoch, owned);
        put(next);
        if (next.state() == MemberState.UNREVOKED_PARTITIONS) {
            Revocation r = revocations.get(next.memberId());
            if (r == null || r.epoch() != next.memberEpoch()) {
                revocations.put(next.memberId(), new Revocation(next.memberEpoch(), now + next.rebalanceTimeoutMs() * 1_000_000L));
            }
        } else {
            revocations.remove(next.memberId());
        }
        sessionDeadlines.put(next.memberId(), now + sessionTimeoutMs * 1_000_000L);
        return next;
    }

    // ------------------------------------------------------------------ members on the classic protocol (online upgrade)

    /**
     * JoinGroup from a member still on the classic protocol. There is no barrier: the member is answered at once with its
     * member epoch as generation and as a follower, so it fetches its assignment with SyncGroup; the partitions it owns
     * come in its subscription (cooperative members list them, eager ones have given everything up), which is how it
     * acknowledges a revocation.
     */
    public synchronized CompletableFuture<JoinGroupResponseData> classicJoin(ClassicJoin j, long now) {
        JoinGroupResponseData answer = classicJoinAnswer(j, now);
        return flush().thenApply(error -> error == Errors.NONE ? answer : joinError(j.memberId(), error));
    }

    private static JoinGroupResponseData joinError(String memberId, Errors error) {
        return new JoinGroupResponseData().setErrorCode(error.code()).setMemberId(memberId).setGenerationId(-1).setLeader("")
                .setProtocolName(null).setProtocolType(null);
    }

    private JoinGroupResponseData classicJoinAnswer(ClassicJoin j, long now) {
        try {
            if (dead) {
                throw new GroupError(Errors.COORDINATOR_NOT_AVAILABLE, "group " + groupId + " is being deleted; retry");
            }
            String memberId = j.memberId().isEmpty() ? Uuid.randomUuid().toString() : j.memberId();
            checkClassicProtocols(memberId, j.protocolType(), j.protocols().keySet());
            if (j.memberId().isEmpty() && j.instanceId() == null && j.requireKnownMemberId()) {
                return joinError(memberId, Errors.MEMBER_ID_REQUIRED);
            }
            ConsumerProtocolSubscription subscription = subscription(memberId, j.protocols());
            ConsumerMember before = classicMember(memberId, j.memberId().isEmpty(), j.instanceId(), j.clientId(), j.clientHost());
            ConsumerMember updated = before.updated(j.instanceId(), subscription.rackId, j.rebalanceTimeoutMs(), subscription.topics,
                    null, null, j.clientId(), j.clientHost()).withClassic(new ClassicMetadata(j.sessionTimeoutMs(), j.protocols()));
            ConsumerMember next = advance(before, updated, subscription.owned, now, j.sessionTimeoutMs());
            return new JoinGroupResponseData().setMemberId(next.memberId()).setGenerationId(next.memberEpoch())
                    .setProtocolType(CONSUMER_PROTOCOL_TYPE).setProtocolName(next.classic().protocolName()).setLeader("");
        } catch (GroupError e) {
            return joinError(j.memberId(), e.error());
        }
    }

    /** SyncGroup from a classic member: its current assignment, in the consumer protocol's encoding it joined with. */
    public synchronized SyncGroupResponseData classicSync(String memberId, String instanceId, int generation, String protocolType,
                                                          String protocolName, long now) {
        try {
            ConsumerMember m = classicMemberOf(memberId, instanceId, generation);
            if ((protocolType != null && !protocolType.equals(CONSUMER_PROTOCOL_TYPE))
                    || (protocolName != null && !protocolName.equals(m.classic().protocolName()))) {
                throw new GroupError(Errors.INCONSISTENT_GROUP_PROTOCOL, "member " + memberId + " synced with protocol " + protocolName
                        + " but joined with " + m.classic().protocolName());
            }
            if (groupEpoch > m.memberEpoch() && m.state() != MemberState.UNREVOKED_PARTITIONS) {
                throw new GroupError(Errors.REBALANCE_IN_PROGRESS, "group " + groupId + " moved to epoch " + groupEpoch + "; rejoin");
            }
            sessionDeadlines.put(m.memberId(), now + m.classic().sessionTimeoutMs() * 1_000_000L);
            return new SyncGroupResponseData().setProtocolType(CONSUMER_PROTOCOL_TYPE).setProtocolName(m.classic().protocolName())
                    .setAssignment(encode(m));
        } catch (GroupError e) {
            return new SyncGroupResponseData().setErrorCode(e.error().code()).setAssignment(new byte[0]);
        }
    }

    /**
     * Heartbeat from a classic member: REBALANCE_IN_PROGRESS whenever rejoining would move it on (a new group epoch,
     * partitions to revoke, or partitions it waits for that are now free), which is how it learns what a consumer
     * member learns from its heartbeat answers.
     */
    public synchronized Errors classicHeartbeat(String memberId, String instanceId, int generation, long now) {
        try {
            ConsumerMember m = classicMemberOf(memberId, instanceId, generation);
            sessionDeadlines.put(m.memberId(), now + m.classic().sessionTimeoutMs() * 1_000_000L);
            boolean waitsForFree = m.state() == MemberState.UNRELEASED_PARTITIONS
                    && target.getOrDefault(m.memberId(), Assignment.EMPTY).minus(m.assigned())
                            .filter((t, p) -> holderEpoch(t, p) == Reconciliation.Holders.FREE).size() > 0;
            return m.memberEpoch() < groupEpoch || m.state() == MemberState.UNREVOKED_PARTITIONS || waitsForFree
                    ? Errors.REBALANCE_IN_PROGRESS : Errors.NONE;
        } catch (GroupError e) {
            return e.error();
        }
    }

    /** LeaveGroup from a classic member (by member id, or by instance id when the id is empty). */
    public synchronized Errors classicLeave(String memberId, String instanceId) {
        ConsumerMember m;
        if (instanceId != null) {
            String id = staticMembers.get(instanceId);
            m = id == null ? null : members.get(id);
            if (m != null && memberId != null && !memberId.isEmpty() && !m.memberId().equals(memberId)) {
                return Errors.FENCED_INSTANCE_ID;
            }
        } else {
            m = members.get(memberId);
        }
        if (m == null) {
            return Errors.UNKNOWN_MEMBER_ID;
        }
        remove(m, "left the group (LeaveGroup)");
        flush(); // not waited for: a leave lost with the coordinator costs the member's partitions a session timeout, nothing worse
        return Errors.NONE;
    }

    private ConsumerMember classicMember(String memberId, boolean unknown, String instanceId, String clientId, String clientHost) {
        if (instanceId == null) {
            // as in Kafka, a classic member is (re)created under the id it names: the id it was given with
            // MEMBER_ID_REQUIRED, or the one it had before the group changed protocol or coordinator
            ConsumerMember m = members.get(memberId);
            return m != null ? m : newMember(memberId, null, clientId, clientHost);
        }
        String existingId = staticMembers.get(instanceId);
        ConsumerMember existing = existingId == null ? null : members.get(existingId);
        if (existing == null) {
            return newMember(memberId, instanceId, clientId, clientHost);
        }
        if (existing.memberId().equals(memberId)) {
            return existing;
        }
        if (!unknown) {
            throw new GroupError(Errors.FENCED_INSTANCE_ID, "instance id " + instanceId + " belongs to member " + existing.memberId());
        }
        // a classic static member coming back under a new id takes over its predecessor's partitions, as in classic groups
        return replaceStatic(existing, memberId);
    }

    /** A static member's new instance takes over the old one's partitions and target, so nothing moves. */
    private ConsumerMember replaceStatic(ConsumerMember existing, String newMemberId) {
        ConsumerMember replacement = existing.startedOver(newMemberId, true);
        forget(existing);
        Assignment itsTarget = target.remove(existing.memberId());
        if (itsTarget != null) {
            target.put(newMemberId, itsTarget);
        }
        put(replacement);
        return replacement;
    }

    private ConsumerMember classicMemberOf(String memberId, String instanceId, int generation) {
        ConsumerMember m;
        if (instanceId != null) {
            String id = staticMembers.get(instanceId);
            m = id == null ? null : members.get(id);
            if (m != null && !m.memberId().equals(memberId)) {
                throw new GroupError(Errors.FENCED_INSTANCE_ID, "instance id " + instanceId + " belongs to member " + m.memberId());
            }
        } else {
            m = members.get(memberId);
        }
        if (m == null || !m.usesClassicProtocol()) {
            throw new GroupError(Errors.UNKNOWN_MEMBER_ID, "member " + memberId + " is not a classic member of group " + groupId);
        }
        if (generation != m.memberEpoch()) {
            throw new GroupError(Errors.ILLEGAL_GENERATION, "member " + memberId + " is at generation " + m.memberEpoch() + ", not " + generation);
        }
        return m;
    }

    /** The consumer protocol, and an assignor every classic member supports (as in a classic group). */
    private void checkClassicProtocols(String memberId, String protocolType, java.util.Set<String> names) {
        boolean shared = !names.isEmpty() && names.stream().anyMatch(n -> members.values().stream()
                .filter(m -> m.usesClassicProtocol() && !m.memberId().equals(memberId))
                .allMatch(m -> m.classic().protocols().containsKey(n)));
        if (!CONSUMER_PROTOCOL_TYPE.equals(protocolType) || !shared) {
            throw new GroupError(Errors.INCONSISTENT_GROUP_PROTOCOL, "member " + memberId + " joined with protocol type " + protocolType
                    + " and assignors " + names + "; a consumer group's classic members must use the consumer protocol and share an assignor");
        }
    }

    private record ConsumerProtocolSubscription(List<String> topics, Assignment owned, String rackId) {}

    private ConsumerProtocolSubscription subscription(String memberId, Map<String, byte[]> protocols) {
        try {
            ConsumerPartitionAssignor.Subscription s = ConsumerProtocol.deserializeSubscription(
                    ByteBuffer.wrap(protocols.values().iterator().next()));
            Map<Uuid, java.util.Set<Integer>> owned = new HashMap<>();
            for (TopicPartition tp : s.ownedPartitions()) {
                PartitionAssignor.Topic t = topics.topic(tp.topic());
                if (t != null) {
                    owned.computeIfAbsent(t.id(), x -> new java.util.HashSet<>()).add(tp.partition());
                }
            }
            return new ConsumerProtocolSubscription(List.copyOf(s.topics()), Assignment.of(owned), s.rackId().orElse(null));
        } catch (RuntimeException e) {
            throw new GroupError(Errors.INCONSISTENT_GROUP_PROTOCOL, "member " + memberId + " sent a subscription that is not the"
                    + " consumer protocol's: " + e.getMessage());
        }
    }

    private byte[] encode(ConsumerMember m) {
        List<TopicPartition> partitions = new ArrayList<>();
        m.assigned().partitions().forEach((id, ps) -> {
            PartitionAssignor.Topic known = subscribed.values().stream().filter(t -> t.id().equals(id)).findFirst().orElse(null);
            String name = known != null ? known.name() : topics.nameOf(id);
            if (name != null) {
                ps.forEach(p -> partitions.add(new TopicPartition(name, p)));
            }
        });
        short version = ConsumerProtocol.deserializeVersion(ByteBuffer.wrap(m.classic().protocols().get(m.classic().protocolName())));
        ByteBuffer buffer = ConsumerProtocol.serializeAssignment(new ConsumerPartitionAssignor.Assignment(partitions), version);
        byte[] bytes = new byte[buffer.remaining()];
        buffer.get(bytes);
        return bytes;
    }

    /**
     * A classic group with members becomes a consumer-protocol group (Kafka 4's online upgrade): each member keeps what it
     * was assigned at the group's generation, which becomes the members' epoch, the group epoch and the target; the new
     * consumer member's join then bumps the epoch and the classic members learn it from their next heartbeat.
     */
    public static ConsumerGroup fromClassic(String groupId, ConsumerGroupSettings settings, TopicImage topics, Journal journal,
                                            int generation, List<ClassicMemberState> classicMembers, long now) {
        ConsumerGroup g = new ConsumerGroup(groupId, settings, topics, journal);
        g.groupEpoch = generation;
        g.assignmentEpoch = generation;
        for (ClassicMemberState c : classicMembers) {
            ConsumerProtocolSubscription s = g.subscription(c.memberId(), c.protocols());
            Map<Uuid, java.util.Set<Integer>> assigned = new HashMap<>();
            if (c.assignment() != null && c.assignment().length > 0) {
                for (TopicPartition tp : ConsumerProtocol.deserializeAssignment(ByteBuffer.wrap(c.assignment())).partitions()) {
                    PartitionAssignor.Topic t = topics.topic(tp.topic());
                    if (t != null) {
                        assigned.computeIfAbsent(t.id(), x -> new java.util.HashSet<>()).add(tp.partition());
                    }
                }
            }
            ConsumerMember m = ConsumerMember.fromClassic(c.memberId(), c.instanceId(), c.clientId(), c.clientHost(), c.rebalanceTimeoutMs(),
                    java.util.Set.copyOf(s.topics()), s.rackId(), generation, Assignment.of(assigned),
                    new ClassicMetadata(c.sessionTimeoutMs(), c.protocols()));
            g.put(m);
            g.target.put(m.memberId(), m.assigned());
            g.sessionDeadlines.put(m.memberId(), now + c.sessionTimeoutMs() * 1_000_000L);
        }
        g.subscribed = g.subscriptionMetadata();
        log.info("group {}: upgraded from the classic protocol at generation {} with {} members", groupId, generation, classicMembers.size());
        return g;
    }

    private ConsumerMember dynamicMember(Heartbeat h, boolean joining) {
        ConsumerMember m = members.get(h.memberId());
        if (m == null) {
            if (!joining) {
                throw new GroupError(Errors.UNKNOWN_MEMBER_ID, "member " + h.memberId() + " is not a member of group " + groupId
                        + " (its session expired or the coordinator moved); rejoin with epoch 0");
            }
            return newMember(h.memberId(), h.instanceId(), h.clientId(), h.clientHost());
        }
        if (joining) {
            return rejoined(m);
        }
        checkEpoch(m, h.memberEpoch(), h.ownedPartitions());
        return m;
    }

    private ConsumerMember staticMember(Heartbeat h, boolean joining) {
        String existingId = staticMembers.get(h.instanceId());
        ConsumerMember existing = existingId == null ? null : members.get(existingId);
        if (!joining) {
            if (existing == null) {
                throw new GroupError(Errors.UNKNOWN_MEMBER_ID, "no member of group " + groupId + " has instance id " + h.instanceId()
                        + "; rejoin with epoch 0");
            }
            if (!existing.memberId().equals(h.memberId())) {
                throw new GroupError(Errors.FENCED_INSTANCE_ID, "instance id " + h.instanceId() + " now belongs to member "
                        + existing.memberId() + "; another consumer with the same group.instance.id took over");
            }
            checkEpoch(existing, h.memberEpoch(), h.ownedPartitions());
            return existing;
        }
        if (existing == null) {
            ConsumerMember same = members.get(h.memberId());
            return same != null ? rejoined(same) : newMember(h.memberId(), h.instanceId(), h.clientId(), h.clientHost());
        }
        if (existing.memberId().equals(h.memberId())) {
            return rejoined(existing);
        }
        if (existing.memberEpoch() != Heartbeat.STATIC_LEAVE_EPOCH) {
            throw new GroupError(Errors.UNRELEASED_INSTANCE_ID, "instance id " + h.instanceId() + " is still held by member "
                    + existing.memberId() + "; it must leave the group (or its session expire) before a new member takes it");
        }
        // KIP-345 for the consumer protocol: the group epoch stays
        ConsumerMember replacement = replaceStatic(existing, h.memberId());
        log.info("group {}: static member {} rejoined as {} (replacing {})", groupId, h.instanceId(), h.memberId(), existing.memberId());
        return replacement;
    }

    private ConsumerMember newMember(String memberId, String instanceId, String clientId, String clientHost) {
        if (members.size() >= settings.maxSize()) {
            throw new GroupError(Errors.GROUP_MAX_SIZE_REACHED, "group " + groupId + " has " + members.size()
                    + " members, the most group.consumer.max.size allows");
        }
        log.info("group {}: member {} joins", groupId, memberId);
        return ConsumerMember.joining(memberId, instanceId, clientId, clientHost);
    }

    /** A member that rejoins with epoch 0 has given up every partition (the protocol says so); it starts over. */
    private ConsumerMember rejoined(ConsumerMember m) {
        return m.startedOver(m.memberId(), false);
    }

    /**
     * A heartbeat must carry the member's epoch; the previous one is accepted when the member owns no more than it
     * holds now (the answer that moved it on was lost).
     */
    private static void checkEpoch(ConsumerMember m, int received, Assignment owned) {
        boolean lostAnswer = received == m.previousMemberEpoch() && owned != null && owned.subsetOf(m.assigned());
        if (received != m.memberEpoch() && !(received < m.memberEpoch() && lostAnswer)) {
            throw new GroupError(Errors.FENCED_MEMBER_EPOCH, "member " + m.memberId() + " sent epoch " + received
                    + " where the coordinator has " + m.memberEpoch() + "; it must give up its partitions and rejoin");
        }
    }

    private Heartbeat.Result leave(Heartbeat h, long now) {
        ConsumerMember m;
        if (h.instanceId() != null) {
            String id = staticMembers.get(h.instanceId());
            m = id == null ? null : members.get(id);
            if (m != null && !m.memberId().equals(h.memberId())) {
                throw new GroupError(Errors.FENCED_INSTANCE_ID, "instance id " + h.instanceId() + " belongs to member " + m.memberId());
            }
        } else {
            m = members.get(h.memberId());
        }
        if (m == null) {
            throw new GroupError(Errors.UNKNOWN_MEMBER_ID, "member " + h.memberId() + " is not a member of group " + groupId);
        }
        if (h.memberEpoch() == Heartbeat.STATIC_LEAVE_EPOCH) {
            // the instance will be back: its partitions wait for it until its session expires
            put(m.reconciled(m.state(), Heartbeat.STATIC_LEAVE_EPOCH, m.assigned(), m.pendingRevocation()));
            sessionDeadlines.put(m.memberId(), now + settings.sessionTimeoutMs() * 1_000_000L);
            log.info("group {}: static member {} ({}) left for now", groupId, m.instanceId(), m.memberId());
        } else {
            remove(m, "left the group");
        }
        return new Heartbeat.Result(Errors.NONE, null, m.memberId(), h.memberEpoch(), settings.heartbeatIntervalMs(), null, null);
    }

    /**
     * A group as a new coordinator finds it in the offsets shard: every member with its epoch and what it holds, so
     * members carry on without rejoining and nothing a member holds is handed to another. The group epoch moves one past
     * anything written, so the target is computed afresh (from what members hold, which keeps it sticky) at the first
     * heartbeat; sessions and revocation deadlines start over.
     */
    public static ConsumerGroup restore(String groupId, ConsumerGroupSettings settings, TopicImage topics, Journal journal,
                                        List<MemberCodec.Stored> stored, long now) {
        ConsumerGroup g = new ConsumerGroup(groupId, settings, topics, journal);
        int epoch = 0;
        for (MemberCodec.Stored s : stored) {
            ConsumerMember m = s.member();
            g.put(m);
            g.written.put(m.memberId(), m);
            g.unwritten.remove(m.memberId());
            g.target.put(m.memberId(), m.assigned().plus(m.pendingRevocation()));
            int session = m.usesClassicProtocol() ? m.classic().sessionTimeoutMs() : settings.sessionTimeoutMs();
            g.sessionDeadlines.put(m.memberId(), now + session * 1_000_000L);
            if (m.state() == MemberState.UNREVOKED_PARTITIONS) {
                g.revocations.put(m.memberId(), new Revocation(m.memberEpoch(), now + m.rebalanceTimeoutMs() * 1_000_000L));
            }
            epoch = Math.max(epoch, Math.max(s.groupEpoch(), m.memberEpoch()));
        }
        g.assignmentEpoch = epoch;
        g.groupEpoch = epoch + 1;
        g.subscribed = g.subscriptionMetadata();
        log.info("group {}: resumed at epoch {} with {} members from the offsets shard", groupId, g.groupEpoch, stored.size());
        return g;
    }

    // ------------------------------------------------------------------ membership bookkeeping

    private void put(ConsumerMember m) {
        ConsumerMember previous = members.put(m.memberId(), m);
        if (previous != null) {
            release(previous);
        }
        hold(m.assigned(), m.memberEpoch());
        hold(m.pendingRevocation(), m.memberEpoch());
        if (m.instanceId() != null) {
            staticMembers.put(m.instanceId(), m.memberId());
        }
        if (!m.equals(written.get(m.memberId()))) {
            unwritten.put(m.memberId(), m);
        } else {
            unwritten.remove(m.memberId());
        }
    }

    private void hold(Assignment a, int epoch) {
        a.partitions().forEach((t, ps) -> {
            Map<Integer, Integer> byPartition = holders.computeIfAbsent(t, x -> new HashMap<>());
            ps.forEach(p -> byPartition.put(p, epoch));
        });
    }

    private void release(ConsumerMember m) {
        m.assigned().plus(m.pendingRevocation()).partitions().forEach((t, ps) -> {
            Map<Integer, Integer> byPartition = holders.get(t);
            if (byPartition != null) {
                ps.forEach(byPartition::remove);
                if (byPartition.isEmpty()) {
                    holders.remove(t);
                }
            }
        });
    }

    private int holderEpoch(Uuid topic, int partition) {
        Map<Integer, Integer> byPartition = holders.get(topic);
        Integer epoch = byPartition == null ? null : byPartition.get(partition);
        return epoch == null ? Reconciliation.Holders.FREE : epoch;
    }

    /** Drops the member's records without touching the group epoch (a static member being replaced). */
    private void forget(ConsumerMember m) {
        members.remove(m.memberId());
        unwritten.put(m.memberId(), null);
        release(m);
        sessionDeadlines.remove(m.memberId());
        revocations.remove(m.memberId());
        if (m.instanceId() != null && m.memberId().equals(staticMembers.get(m.instanceId()))) {
            staticMembers.remove(m.instanceId());
        }
    }

    private void remove(ConsumerMember m, String why) {
        forget(m);
        target.remove(m.memberId());
        subscribed = subscriptionMetadata();
        groupEpoch++;
        log.info("group {}: member {} {}; epoch {} ({} members)", groupId, m.memberId(), why, groupEpoch, members.size());
    }

    /** Expires members whose session ran out and members that did not revoke within their rebalance timeout. */
    public synchronized void tick(long now) {
        for (ConsumerMember m : new ArrayList<>(members.values())) {
            Long session = sessionDeadlines.get(m.memberId());
            Revocation r = revocations.get(m.memberId());
            if (session != null && now - session > 0) {
                remove(m, "sent no heartbeat within group.consumer.session.timeout.ms (" + settings.sessionTimeoutMs() + " ms)");
            } else if (r != null && now - r.deadlineNanos() > 0 && m.state() == MemberState.UNREVOKED_PARTITIONS
                    && m.memberEpoch() == r.epoch()) {
                remove(m, "did not revoke " + m.pendingRevocation() + " within its rebalance timeout (" + m.rebalanceTimeoutMs() + " ms)");
            }
        }
        flush();
    }

    // ------------------------------------------------------------------ target assignment

    private void computeTarget() {
        PartitionAssignor assignor = chooseAssignor();
        Map<Uuid, PartitionAssignor.Topic> byId = new HashMap<>();
        subscribed.values().forEach(t -> byId.put(t.id(), t));
        List<PartitionAssignor.Member> specs = new ArrayList<>();
        for (ConsumerMember m : members.values()) {
            specs.add(new PartitionAssignor.Member(m.memberId(), m.instanceId(), m.rackId(),
                    topicsOf(m).stream().map(PartitionAssignor.Topic::id).collect(java.util.stream.Collectors.toSet())));
        }
        target = new HashMap<>(assignor.assign(specs, byId, target));
        assignmentEpoch = groupEpoch;
        assignorName = assignor.name();
    }

    /** The assignor most members ask for; the first configured one when none asks. */
    private PartitionAssignor chooseAssignor() {
        Map<String, Integer> votes = new TreeMap<>();
        members.values().forEach(m -> {
            if (m.serverAssignor() != null) {
                votes.merge(m.serverAssignor(), 1, Integer::sum);
            }
        });
        String chosen = votes.entrySet().stream().max(Map.Entry.comparingByValue()).map(Map.Entry::getKey)
                .orElse(settings.assignors().get(0).name());
        return settings.assignor(chosen);
    }

    private List<PartitionAssignor.Topic> topicsOf(ConsumerMember m) {
        List<PartitionAssignor.Topic> out = new ArrayList<>();
        for (String name : m.subscribedTopicNames()) {
            PartitionAssignor.Topic t = topics.topic(name);
            if (t != null) {
                out.add(t);
            }
        }
        if (m.subscribedTopicRegex() != null) {
            Pattern p = pattern(m.subscribedTopicRegex());
            for (String name : topics.names()) {
                if (!name.startsWith("__") && !m.subscribedTopicNames().contains(name) && p.matcher(name).matches()) {
                    PartitionAssignor.Topic t = topics.topic(name);
                    if (t != null) {
                        out.add(t);
                    }
                }
            }
        }
        return out;
    }

    private Pattern pattern(String regex) {
        Pattern p = patterns.get(regex);
        if (p == null) {
            try {
                p = Pattern.compile(regex);
            } catch (PatternSyntaxException e) {
                throw new GroupError(Errors.INVALID_REGULAR_EXPRESSION, "subscribed topic regex " + regex + " is invalid: " + e.getDescription());
            }
            patterns.put(regex, p);
        }
        return p;
    }

    private Map<String, PartitionAssignor.Topic> subscriptionMetadata() {
        Map<String, PartitionAssignor.Topic> out = new TreeMap<>();
        members.values().forEach(m -> topicsOf(m).forEach(t -> out.put(t.name(), t)));
        return out;
    }

    // ------------------------------------------------------------------ offsets and views

    /**
     * The error an OffsetCommit with this identity gets, NONE when it may commit. A commit without a member (epoch -1)
     * is allowed only while the group has no members; a member must use OffsetCommit v9+ (transactional commits
     * excepted) and its current epoch (STALE_MEMBER_EPOCH otherwise, which the client retries after its heartbeat).
     */
    public synchronized Errors commitCheck(String memberId, int memberEpoch, short apiVersion, boolean transactional) {
        if (memberEpoch < 0 && members.isEmpty()) {
            return Errors.NONE;
        }
        ConsumerMember m = memberId == null ? null : members.get(memberId);
        if (m == null) {
            return Errors.UNKNOWN_MEMBER_ID;
        }
        if (m.usesClassicProtocol()) {
            return memberEpoch == m.memberEpoch() ? Errors.NONE : Errors.ILLEGAL_GENERATION;
        }
        if (!transactional && apiVersion < 9) {
            return Errors.UNSUPPORTED_VERSION;
        }
        return memberEpoch == m.memberEpoch() ? Errors.NONE : Errors.STALE_MEMBER_EPOCH;
    }

    /** OffsetFetch v9+: a member naming itself must be one, with its current epoch. */
    public synchronized Errors fetchCheck(String memberId, int memberEpoch) {
        if (memberId == null && memberEpoch < 0) {
            return Errors.NONE;
        }
        ConsumerMember m = memberId == null ? null : members.get(memberId);
        if (m == null) {
            return Errors.UNKNOWN_MEMBER_ID;
        }
        return memberEpoch == m.memberEpoch() ? Errors.NONE : m.usesClassicProtocol() ? Errors.ILLEGAL_GENERATION : Errors.STALE_MEMBER_EPOCH;
    }

    public synchronized boolean isEmpty() {
        return members.isEmpty();
    }

    /** Marks an empty group dead so it can be deleted or become a classic group; false if it has members. */
    public synchronized boolean markDeadIfEmpty() {
        if (!members.isEmpty()) {
            return false;
        }
        dead = true;
        return true;
    }

    public synchronized State state() {
        if (dead) {
            return State.DEAD;
        }
        if (members.isEmpty()) {
            return State.EMPTY;
        }
        if (groupEpoch > assignmentEpoch) {
            return State.ASSIGNING;
        }
        return members.values().stream().allMatch(m -> m.reconciledTo(assignmentEpoch)) ? State.STABLE : State.RECONCILING;
    }

    /** The topics any member subscribes to (OffsetDelete keeps their offsets). */
    public synchronized java.util.Set<String> subscribedTopics() {
        return new java.util.TreeSet<>(subscribed.keySet());
    }

    public synchronized ConsumerGroupView view() {
        List<ConsumerGroupView.Member> ms = new ArrayList<>();
        for (ConsumerMember m : members.values()) {
            ms.add(new ConsumerGroupView.Member(m.memberId(), m.instanceId(), m.rackId(), m.memberEpoch(), m.clientId(), m.clientHost(),
                    m.subscribedTopicNames().stream().sorted().toList(), m.subscribedTopicRegex(), m.assigned(),
                    target.getOrDefault(m.memberId(), Assignment.EMPTY), m.usesClassicProtocol()));
        }
        Map<Uuid, String> names = new HashMap<>();
        subscribed.values().forEach(t -> names.put(t.id(), t.name()));
        return new ConsumerGroupView(groupId, state(), groupEpoch, assignmentEpoch, assignorName, ms, names);
    }
}
