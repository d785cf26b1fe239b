package io.capstan.operator.rebalance;

import io.capstan.cluster.planner.AssignmentPlanner.ShardId;
import io.capstan.cluster.planner.LoadRebalancer;
import io.capstan.operator.api.CapstanRebalanceStatus;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** A planner's proposal as the status shows it, and the id an approval must name. Pure. */
public final class RebalanceProposal {
    private RebalanceProposal() {}

    /**
     * The proposal's id: a digest of the assignment it starts from and its moves, so an approval never applies to
     * moves planned from an assignment that has changed since.
     */
    public static String id(Map<ShardId, List<Integer>> current, List<CapstanRebalanceStatus.Move> moves) {
        StringBuilder text = new StringBuilder();
        new java.util.TreeMap<>(current).forEach((shard, replicas) -> text.append(shard.topic()).append('/').append(shard.partition())
                .append('=').append(replicas).append(';'));
        text.append('|');
        moves.forEach(m -> text.append(m.kind).append(' ').append(m.topic).append('/').append(m.partition).append(' ')
                .append(m.from).append("->").append(m.to).append(';'));
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(text.toString().getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest, 0, 6);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }

    /** The status form of {@code proposal}, planned from {@code current}. */
    public static CapstanRebalanceStatus.Proposal of(LoadRebalancer.Proposal proposal, Map<ShardId, List<Integer>> current) {
        CapstanRebalanceStatus.Proposal p = new CapstanRebalanceStatus.Proposal();
        Set<ShardId> changed = new HashSet<>();
        for (LoadRebalancer.Move move : proposal.moves()) {
            CapstanRebalanceStatus.Move m = new CapstanRebalanceStatus.Move();
            m.topic = move.shard().topic();
            m.partition = move.shard().partition();
            m.kind = move.kind() == LoadRebalancer.Kind.LEADER ? "Leader" : "Replica";
            m.from = move.from();
            m.to = move.to();
            p.moves.add(m);
            changed.add(move.shard());
        }
        p.moveCount = p.moves.size();
        proposal.assignment().forEach((shard, replicas) -> {
            if (changed.contains(shard)) {
                CapstanRebalanceStatus.Target t = new CapstanRebalanceStatus.Target();
                t.topic = shard.topic();
                t.partition = shard.partition();
                t.replicas = List.copyOf(replicas);
                p.targets.add(t);
            }
        });
        proposal.before().load().forEach((broker, load) -> p.brokerLoadBefore.put(String.valueOf(broker), Math.round(load)));
        proposal.after().load().forEach((broker, load) -> p.brokerLoadAfter.put(String.valueOf(broker), Math.round(load)));
        p.maxOverMeanBefore = String.format(java.util.Locale.ROOT, "%.2f", proposal.before().maxOverMean());
        p.maxOverMeanAfter = String.format(java.util.Locale.ROOT, "%.2f", proposal.after().maxOverMean());
        p.id = id(current, p.moves);
        return p;
    }
}
