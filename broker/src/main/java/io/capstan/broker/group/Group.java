package io.capstan.broker.group;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.JoinGroupResponseData;
import org.apache.kafka.common.message.SyncGroupResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One consumer group under the classic protocol: membership, generations, the rebalance barrier (join), the
 * assignment hand-out (sync), heartbeats and session expiry, static members. Every method is synchronized: a group
 * is small and its operations are short. Time comes in as an argument so the tests drive it.
 */
final class Group {
    private static final Logger log = LoggerFactory.getLogger(Group.class);

    final String groupId;
    private final GroupSettings settings;
    private GroupState state = GroupState.EMPTY;
    private int generation;
    private String protocolType;
    private String protocolName;
    private String leaderId;
    private final Map<String, Member> members = new LinkedHashMap<>();
    private final Map<String, String> staticMembers = new HashMap<>();
    /** Member ids handed out with MEMBER_ID_REQUIRED and not yet used to join, with when they lapse. */
    private final Map<String, Long> pendingMemberIds = new HashMap<>();
    private long rebalanceDeadlineNanos;
    private long initialDelayUntilNanos;
    private long rebalanceStartNanos;
    private long lastRebalanceNanos;

    Group(String groupId, GroupSettings settings) {
        this.groupId = groupId;
        this.settings = settings;
    }

    // ------------------------------------------------------------------ join

    synchronized CompletableFuture<JoinGroupResponseData> join(JoinRequest r, long now) {
        CompletableFuture<JoinGroupResponseData> response = new CompletableFuture<>();
        if (state == GroupState.DEAD) {
            return done(response, error(r.memberId(), Errors.COORDINATOR_NOT_AVAILABLE));
        }
        if (r.sessionTimeoutMs() < settings.minSessionTimeoutMs() || r.sessionTimeoutMs() > settings.maxSessionTimeoutMs()) {
            return done(response, error(r.memberId(), Errors.INVALID_SESSION_TIMEOUT));
        }
        if (!acceptsProtocols(r.protocolType(), r.protocols())) {
            return done(response, error(r.memberId(), Errors.INCONSISTENT_GROUP_PROTOCOL));
        }
        if (r.memberId().isEmpty()) {
            return joinUnknown(r, now, response);
        }
        Member member = members.get(r.memberId());
        if (member == null) {
            if (pendingMemberIds.remove(r.memberId()) == null) {
                return done(response, error(r.memberId(), Errors.UNKNOWN_MEMBER_ID));
            }
            addMember(r, r.memberId(), now, response);
            return response;
        }
        if (r.instanceId() != null && !r.memberId().equals(staticMembers.get(r.instanceId()))) {
            return done(response, error(r.memberId(), Errors.FENCED_INSTANCE_ID));
        }
        member.lastSeenNanos = now;
        switch (state) {
            case PREPARING_REBALANCE -> {
                update(member, r, response);
                maybeCompleteJoin(now);
            }
            case COMPLETING_REBALANCE -> {
                if (member.sameProtocols(r.protocols())) {
                    // the member lost our join response and asks again: same generation, same answer
                    response.complete(joinResponse(member));
                } else {
                    update(member, r, response);
                    prepareRebalance(now, "member " + member.memberId + " changed its subscription");
                }
            }
            case STABLE -> {
                if (member.memberId.equals(leaderId) || !member.sameProtocols(r.protocols())) {
                    update(member, r, response);
                    prepareRebalance(now, "member " + member.memberId + " rejoined");
                } else {
                    response.complete(joinResponse(member));
                }
            }
            default -> done(response, error(r.memberId(), Errors.UNKNOWN_MEMBER_ID));
        }
        return response;
    }

    private CompletableFuture<JoinGroupResponseData> joinUnknown(JoinRequest r, long now, CompletableFuture<JoinGroupResponseData> response) {
        String newId = (r.instanceId() != null ? r.instanceId() : r.clientId()) + "-" + UUID.randomUUID();
        if (r.instanceId() != null) {
            String oldId = staticMembers.get(r.instanceId());
            if (oldId != null && members.containsKey(oldId)) {
                return replaceStaticMember(r, oldId, newId, now, response);
            }
            addMember(r, newId, now, response);
            return response;
        }
        if (r.requireKnownMemberId()) {
            // KIP-394: make the client come back with an id, so retries after a lost response do not add ghosts
            pendingMemberIds.put(newId, now + r.sessionTimeoutMs() * 1_000_000L);
            return done(response, error(newId, Errors.MEMBER_ID_REQUIRED));
        }
        addMember(r, newId, now, response);
        return response;
    }

    /** KIP-345: a restarted static member takes over its old identity; in a stable group no rebalance is needed. */
    private CompletableFuture<JoinGroupResponseData> replaceStaticMember(JoinRequest r, String oldId, String newId, long now,
                                                                         CompletableFuture<JoinGroupResponseData> response) {
        Member old = members.remove(oldId);
        if (old.pendingJoin != null) {
            old.pendingJoin.complete(error(oldId, Errors.FENCED_INSTANCE_ID));
        }
        if (old.pendingSync != null) {
            old.pendingSync.complete(syncError(Errors.FENCED_INSTANCE_ID));
        }
        Member replacement = old.withId(newId, r.clientHost(), now);
        members.put(newId, replacement);
        staticMembers.put(r.instanceId(), newId);
        if (oldId.equals(leaderId)) {
            leaderId = newId;
        }
        log.info("group {}: static member {} rejoined as {}", groupId, r.instanceId(), newId);
        // owned partitions inside the subscription differ after a restart; what matters is the same assignors
        if (state == GroupState.STABLE && old.protocols.keySet().equals(r.protocols().keySet())) {
            replacement.protocols = r.protocols();
            // answered as a follower even if it leads: it then fetches its old assignment in SyncGroup, and nobody's
            // assignment is recomputed for a simple restart
            JoinGroupResponseData answer = joinResponse(replacement).setMembers(List.of());
            if (newId.equals(leaderId)) {
                answer.setLeader("");
            }
            response.complete(answer);
            return response;
        }
        update(replacement, r, response);
        if (state == GroupState.PREPARING_REBALANCE) {
            maybeCompleteJoin(now);
        } else {
            prepareRebalance(now, "static member " + r.instanceId() + " rejoined with a new subscription");
        }
        return response;
    }

    private void addMember(JoinRequest r, String memberId, long now, CompletableFuture<JoinGroupResponseData> response) {
        Member m = new Member(memberId, r.instanceId(), r.clientId(), r.clientHost(), r.sessionTimeoutMs(),
                r.rebalanceTimeoutMs(), r.protocols(), now);
        m.pendingJoin = response;
        members.put(memberId, m);
        if (r.instanceId() != null) {
            staticMembers.put(r.instanceId(), memberId);
        }
        if (protocolType == null) {
            protocolType = r.protocolType();
        }
        if (state == GroupState.PREPARING_REBALANCE) {
            if (initialDelayUntilNanos > now) {
                initialDelayUntilNanos = Math.min(now + settings.initialRebalanceDelayMs() * 1_000_000L, rebalanceDeadlineNanos);
            }
            maybeCompleteJoin(now);
        } else {
            prepareRebalance(now, "member " + memberId + " joined");
        }
    }

    private void update(Member member, JoinRequest r, CompletableFuture<JoinGroupResponseData> response) {
        member.protocols = r.protocols();
        member.sessionTimeoutMs = r.sessionTimeoutMs();
        member.rebalanceTimeoutMs = r.rebalanceTimeoutMs();
        if (member.pendingJoin != null && member.pendingJoin != response) {
            member.pendingJoin.complete(error(member.memberId, Errors.UNKNOWN_MEMBER_ID));
        }
        member.pendingJoin = response;
    }

    private boolean acceptsProtocols(String type, LinkedHashMap<String, byte[]> protocols) {
        if (type == null || type.isEmpty() || protocols.isEmpty()) {
            return false;
        }
        if (members.isEmpty()) {
            return true;
        }
        if (!type.equals(protocolType)) {
            return false;
        }
        return protocols.keySet().stream().anyMatch(p -> members.values().stream().allMatch(m -> m.protocols.containsKey(p)));
    }

    private void prepareRebalance(long now, String reason) {
        boolean fromEmpty = state == GroupState.EMPTY;
        for (Member m : members.values()) {
            if (m.pendingSync != null) {
                m.pendingSync.complete(syncError(Errors.REBALANCE_IN_PROGRESS));
                m.pendingSync = null;
            }
        }
        state = GroupState.PREPARING_REBALANCE;
        rebalanceStartNanos = now;
        int timeout = members.values().stream().mapToInt(m -> m.rebalanceTimeoutMs).max().orElse(settings.initialRebalanceDelayMs());
        rebalanceDeadlineNanos = now + timeout * 1_000_000L;
        initialDelayUntilNanos = fromEmpty ? Math.min(now + settings.initialRebalanceDelayMs() * 1_000_000L, rebalanceDeadlineNanos) : now;
        log.info("group {}: preparing rebalance for generation {} ({})", groupId, generation + 1, reason);
        maybeCompleteJoin(now);
    }

    private void maybeCompleteJoin(long now) {
        if (state != GroupState.PREPARING_REBALANCE) {
            return;
        }
        boolean allJoined = members.values().stream().allMatch(m -> m.pendingJoin != null) && pendingMemberIds.isEmpty();
        if ((allJoined && now >= initialDelayUntilNanos) || now >= rebalanceDeadlineNanos) {
            completeJoin(now);
        }
    }

    private void completeJoin(long now) {
        members.values().removeIf(m -> {
            if (m.pendingJoin == null) {
                log.info("group {}: removing member {} which did not rejoin within the rebalance timeout", groupId, m.memberId);
                forgetStatic(m);
                return true;
            }
            return false;
        });
        pendingMemberIds.clear();
        generation++;
        lastRebalanceNanos = now - rebalanceStartNanos;
        if (members.isEmpty()) {
            state = GroupState.EMPTY;
            protocolName = null;
            protocolType = null;
            leaderId = null;
            log.info("group {}: generation {} is empty", groupId, generation);
            return;
        }
        protocolName = selectProtocol();
        if (leaderId == null || !members.containsKey(leaderId)) {
            leaderId = members.keySet().iterator().next();
        }
        state = GroupState.COMPLETING_REBALANCE;
        for (Member m : members.values()) {
            m.assignment = new byte[0];
            CompletableFuture<JoinGroupResponseData> pending = m.pendingJoin;
            m.pendingJoin = null;
            m.lastSeenNanos = now;
            pending.complete(joinResponse(m));
        }
        log.info("group {}: generation {} with {} members, protocol {}, leader {} ({} ms)", groupId, generation,
                members.size(), protocolName, leaderId, lastRebalanceNanos / 1_000_000);
    }

    private String selectProtocol() {
        List<String> candidates = new ArrayList<>(members.values().iterator().next().protocols.keySet());
        candidates.removeIf(p -> !members.values().stream().allMatch(m -> m.protocols.containsKey(p)));
        Map<String, Integer> votes = new LinkedHashMap<>();
        candidates.forEach(c -> votes.put(c, 0));
        for (Member m : members.values()) {
            String choice = m.protocols.keySet().stream().filter(votes::containsKey).findFirst().orElseThrow();
            votes.merge(choice, 1, Integer::sum);
        }
        return votes.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey();
    }

    private JoinGroupResponseData joinResponse(Member m) {
        JoinGroupResponseData r = new JoinGroupResponseData()
                .setGenerationId(generation).setProtocolType(protocolType).setProtocolName(protocolName)
                .setLeader(leaderId).setMemberId(m.memberId);
        if (m.memberId.equals(leaderId)) {
            for (Member each : members.values()) {
                r.members().add(new JoinGroupResponseData.JoinGroupResponseMember().setMemberId(each.memberId)
                        .setGroupInstanceId(each.instanceId).setMetadata(each.protocols.get(protocolName)));
            }
        }
        return r;
    }

    // ------------------------------------------------------------------ sync, heartbeat, leave

    synchronized CompletableFuture<SyncGroupResponseData> sync(String memberId, String instanceId, int generationId,
                                                               Map<String, byte[]> assignments, long now) {
        CompletableFuture<SyncGroupResponseData> response = new CompletableFuture<>();
        Errors check = checkMember(memberId, instanceId, generationId);
        if (check != Errors.NONE) {
            return done(response, syncError(check));
        }
        Member member = members.get(memberId);
        member.lastSeenNanos = now;
        switch (state) {
            case PREPARING_REBALANCE -> response.complete(syncError(Errors.REBALANCE_IN_PROGRESS));
            case COMPLETING_REBALANCE -> {
                member.pendingSync = response;
                if (memberId.equals(leaderId)) {
                    for (Member m : members.values()) {
                        m.assignment = assignments.getOrDefault(m.memberId, new byte[0]);
                    }
                    state = GroupState.STABLE;
                    for (Member m : members.values()) {
                        if (m.pendingSync != null) {
                            m.pendingSync.complete(syncResponse(m));
                            m.pendingSync = null;
                        }
                    }
                }
            }
            case STABLE -> response.complete(syncResponse(member));
            default -> response.complete(syncError(Errors.UNKNOWN_MEMBER_ID));
        }
        return response;
    }

    synchronized Errors heartbeat(String memberId, String instanceId, int generationId, long now) {
        Errors check = checkMember(memberId, instanceId, generationId);
        if (check != Errors.NONE) {
            return check;
        }
        members.get(memberId).lastSeenNanos = now;
        return state == GroupState.PREPARING_REBALANCE ? Errors.REBALANCE_IN_PROGRESS : Errors.NONE;
    }

    /** Removes the member named by id, or by instance id when the id is empty (KIP-345 batch leave). */
    synchronized Errors leave(String memberId, String instanceId, long now) {
        String id = memberId;
        if ((id == null || id.isEmpty()) && instanceId != null) {
            id = staticMembers.get(instanceId);
        }
        Member m = id == null ? null : members.get(id);
        if (m == null) {
            return Errors.UNKNOWN_MEMBER_ID;
        }
        if (instanceId != null && !id.equals(staticMembers.get(instanceId))) {
            return Errors.FENCED_INSTANCE_ID;
        }
        remove(m, now, "member " + id + " left");
        return Errors.NONE;
    }

    private void remove(Member m, long now, String reason) {
        members.remove(m.memberId);
        forgetStatic(m);
        if (m.pendingJoin != null) {
            m.pendingJoin.complete(error(m.memberId, Errors.UNKNOWN_MEMBER_ID));
        }
        if (m.pendingSync != null) {
            m.pendingSync.complete(syncError(Errors.UNKNOWN_MEMBER_ID));
        }
        switch (state) {
            case STABLE, COMPLETING_REBALANCE -> prepareRebalance(now, reason);
            case PREPARING_REBALANCE -> maybeCompleteJoin(now);
            default -> { }
        }
    }

    private void forgetStatic(Member m) {
        if (m.instanceId != null && m.memberId.equals(staticMembers.get(m.instanceId))) {
            staticMembers.remove(m.instanceId);
        }
    }

    /** Expires silent members and completes rebalances whose time is up; called by the coordinator's sweep. */
    synchronized void tick(long now) {
        // a client told MEMBER_ID_REQUIRED that never came back must not hold up rebalances
        pendingMemberIds.values().removeIf(deadline -> deadline <= now);
        for (Member m : new ArrayList<>(members.values())) {
            if (m.expired(now)) {
                log.info("group {}: member {} sent no heartbeat for {} ms (session.timeout.ms); removing it",
                        groupId, m.memberId, m.sessionTimeoutMs);
                remove(m, now, "member " + m.memberId + " timed out");
            }
        }
        maybeCompleteJoin(now);
    }

    /** The error a commit with this identity gets, NONE when it may commit. */
    synchronized Errors commitCheck(String memberId, String instanceId, int generationId) {
        if (generationId < 0 && (memberId == null || memberId.isEmpty())) {
            return state == GroupState.EMPTY || state == GroupState.DEAD ? Errors.NONE : Errors.UNKNOWN_MEMBER_ID;
        }
        Errors check = checkMember(memberId, instanceId, generationId);
        if (check != Errors.NONE) {
            return check;
        }
        // as in Kafka: a member of the current generation may commit while the next one is being prepared (cooperative
        // members keep processing then); between join and sync the generation's assignment is not known yet
        return state == GroupState.COMPLETING_REBALANCE ? Errors.REBALANCE_IN_PROGRESS : Errors.NONE;
    }

    private Errors checkMember(String memberId, String instanceId, int generationId) {
        if (instanceId != null) {
            String current = staticMembers.get(instanceId);
            if (current != null && !current.equals(memberId)) {
                return Errors.FENCED_INSTANCE_ID;
            }
        }
        if (!members.containsKey(memberId)) {
            return Errors.UNKNOWN_MEMBER_ID;
        }
        if (generationId != generation) {
            return Errors.ILLEGAL_GENERATION;
        }
        return Errors.NONE;
    }

    /** Marks an empty group dead so it can be deleted; false if it still has members. */
    synchronized boolean markDeadIfEmpty() {
        if (!members.isEmpty()) {
            return false;
        }
        state = GroupState.DEAD;
        return true;
    }

    /**
     * Gives the group's members to a consumer-protocol group (online upgrade) and marks this one dead; null when it
     * cannot be: not a consumer-protocol group ("consumer" protocol type) or already dead. Members waiting in a join or
     * sync are told REBALANCE_IN_PROGRESS and come back to the new group.
     */
    synchronized HandOver handOver() {
        if (state == GroupState.DEAD || members.isEmpty() || !"consumer".equals(protocolType)) {
            return null;
        }
        abandon(Errors.REBALANCE_IN_PROGRESS);
        List<io.capstan.broker.group.modern.ClassicMemberState> out = new ArrayList<>();
        for (Member m : members.values()) {
            out.add(new io.capstan.broker.group.modern.ClassicMemberState(m.memberId, m.instanceId, m.clientId, m.clientHost,
                    m.sessionTimeoutMs, m.rebalanceTimeoutMs, m.protocols, state == GroupState.STABLE ? m.assignment : new byte[0]));
        }
        state = GroupState.DEAD;
        return new HandOver(generation, out);
    }

    record HandOver(int generation, List<io.capstan.broker.group.modern.ClassicMemberState> members) {}

    // ------------------------------------------------------------------ views

    /** This broker stops coordinating: every waiting member is told to find the new coordinator. */
    synchronized void abandon(Errors error) {
        for (Member m : members.values()) {
            if (m.pendingJoin != null) {
                m.pendingJoin.complete(error(m.memberId, error));
                m.pendingJoin = null;
            }
            if (m.pendingSync != null) {
                m.pendingSync.complete(syncError(error));
                m.pendingSync = null;
            }
        }
    }

    synchronized GroupView view() {
        List<GroupView.MemberView> ms = new ArrayList<>();
        for (Member m : members.values()) {
            ms.add(new GroupView.MemberView(m.memberId, m.instanceId, m.clientId, m.clientHost,
                    protocolName == null ? new byte[0] : m.protocols.getOrDefault(protocolName, new byte[0]), m.assignment));
        }
        return new GroupView(groupId, state, generation, protocolType == null ? "" : protocolType,
                protocolName == null ? "" : protocolName, leaderId, ms, lastRebalanceNanos / 1_000_000);
    }

    private static <T> CompletableFuture<T> done(CompletableFuture<T> f, T value) {
        f.complete(value);
        return f;
    }

    private static JoinGroupResponseData error(String memberId, Errors e) {
        return new JoinGroupResponseData().setErrorCode(e.code()).setMemberId(memberId).setGenerationId(-1)
                .setLeader("").setProtocolName(null).setProtocolType(null);
    }

    private SyncGroupResponseData syncResponse(Member m) {
        return new SyncGroupResponseData().setProtocolType(protocolType).setProtocolName(protocolName).setAssignment(m.assignment);
    }

    private static SyncGroupResponseData syncError(Errors e) {
        return new SyncGroupResponseData().setErrorCode(e.code()).setAssignment(new byte[0]);
    }
}
