package io.capstan.broker.group.modern;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.protocol.Errors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One group under the consumer protocol (KIP-848). A member's change of subscription, a member joining or leaving, or
 * a change of the subscribed topics bumps the group epoch; the assignor then computes a target assignment for that
 * epoch; each member moves towards its target in its own heartbeats ({@link Reconciliation}), so members that keep
 * their partitions never stop. Every method is synchronized: a group is small and its operations are short. Time comes
 * in as an argument so tests drive it. State lives in memory: when coordination moves to another broker, members are
 * answered UNKNOWN_MEMBER_ID there and rejoin (their committed offsets are in the replicated offsets shard).
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

    private final String groupId;
    private final ConsumerGroupSettings settings;
    private final TopicImage topics;
    private final Map<String, ConsumerMember> members = new LinkedHashMap<>();
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
    private String assignorName;
    private boolean dead;

    public ConsumerGroup(String groupId, ConsumerGroupSettings settings, TopicImage topics) {
        this.groupId = groupId;
        this.settings = settings;
        this.topics = topics;
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
            return h.memberEpoch() < 0 ? leave(h, now) : beat(h, now);
        } catch (GroupError e) {
            return Heartbeat.Result.error(e.error(), e.getMessage());
        }
    }

    private Heartbeat.Result beat(Heartbeat h, long now) {
        boolean joining = h.memberEpoch() == Heartbeat.JOIN_EPOCH;
        ConsumerMember before = h.instanceId() == null ? dynamicMember(h, joining) : staticMember(h, joining);
        ConsumerMember updated = before.updated(h.instanceId(), h.rackId(), h.rebalanceTimeoutMs(), h.subscribedTopicNames(),
                h.subscribedTopicRegex(), h.serverAssignor(), h.clientId(), h.clientHost());
        boolean bump = !members.containsKey(updated.memberId()) || !updated.sameSubscription(before);
        put(updated);
        Map<String, PartitionAssignor.Topic> metadata = subscriptionMetadata();
        if (!metadata.equals(subscribed)) {
            subscribed = metadata;
            bump = true;
        }
        if (bump) {
            groupEpoch++;
            log.info("group {}: epoch {} ({} members)", groupId, groupEpoch, members.size());
        }
        if (groupEpoch > assignmentEpoch) {
            computeTarget();
        }
        ConsumerMember next = Reconciliation.next(updated, assignmentEpoch, target.getOrDefault(updated.memberId(), Assignment.EMPTY),
                this::holderEpoch, h.ownedPartitions());
        put(next);
        if (next.state() == MemberState.UNREVOKED_PARTITIONS) {
            Revocation r = revocations.get(next.memberId());
            if (r == null || r.epoch() != next.memberEpoch()) {
                revocations.put(next.memberId(), new Revocation(next.memberEpoch(), now + next.rebalanceTimeoutMs() * 1_000_000L));
            }
        } else {
            revocations.remove(next.memberId());
        }
        sessionDeadlines.put(next.memberId(), now + settings.sessionTimeoutMs() * 1_000_000L);
        boolean sendAssignment = h.full() || !next.assigned().equals(before.assigned());
        return new Heartbeat.Result(Errors.NONE, null, next.memberId(), next.memberEpoch(), settings.heartbeatIntervalMs(),
                sendAssignment ? next.assigned() : null);
    }

    private ConsumerMember dynamicMember(Heartbeat h, boolean joining) {
        ConsumerMember m = members.get(h.memberId());
        if (m == null) {
            if (!joining) {
                throw new GroupError(Errors.UNKNOWN_MEMBER_ID, "member " + h.memberId() + " is not a member of group " + groupId
                        + " (its session expired or the coordinator moved); rejoin with epoch 0");
            }
            return newMember(h);
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
            return same != null ? rejoined(same) : newMember(h);
        }
        if (existing.memberId().equals(h.memberId())) {
            return rejoined(existing);
        }
        if (existing.memberEpoch() != Heartbeat.STATIC_LEAVE_EPOCH) {
            throw new GroupError(Errors.UNRELEASED_INSTANCE_ID, "instance id " + h.instanceId() + " is still held by member "
                    + existing.memberId() + "; it must leave the group (or its session expire) before a new member takes it");
        }
        // KIP-345 for the consumer protocol: the restarted instance takes over the old one's partitions and target, so
        // nothing moves and the group epoch stays
        ConsumerMember replacement = existing.startedOver(h.memberId(), true);
        forget(existing);
        Assignment itsTarget = target.remove(existing.memberId());
        if (itsTarget != null) {
            target.put(replacement.memberId(), itsTarget);
        }
        put(replacement);
        log.info("group {}: static member {} rejoined as {} (replacing {})", groupId, h.instanceId(), h.memberId(), existing.memberId());
        return replacement;
    }

    private ConsumerMember newMember(Heartbeat h) {
        if (members.size() >= settings.maxSize()) {
            throw new GroupError(Errors.GROUP_MAX_SIZE_REACHED, "group " + groupId + " has " + members.size()
                    + " members, the most group.consumer.max.size allows");
        }
        log.info("group {}: member {} joins", groupId, h.memberId());
        return ConsumerMember.joining(h.memberId(), h.instanceId(), h.clientId(), h.clientHost());
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
        return new Heartbeat.Result(Errors.NONE, null, m.memberId(), h.memberEpoch(), settings.heartbeatIntervalMs(), null);
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
        return memberEpoch == m.memberEpoch() ? Errors.NONE : Errors.STALE_MEMBER_EPOCH;
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
                    target.getOrDefault(m.memberId(), Assignment.EMPTY)));
        }
        Map<Uuid, String> names = new HashMap<>();
        subscribed.values().forEach(t -> names.put(t.id(), t.name()));
        return new ConsumerGroupView(groupId, state(), groupEpoch, assignmentEpoch, assignorName, ms, names);
    }
}
