package io.capstan.operator.rollout;

import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.function.IntFunction;

/**
 * Which broker to restart next onto the new pod template, if any. One broker at a time, highest ordinal first, only
 * when every broker is ready and the broker itself says it is safe to restart (no shard it hosts would fall below
 * min.insync.replicas, nothing under-replicated). A broker that is down on an outdated template is replaced first. Pure: the reconciler observes pods and asks the brokers, this decides.
 */
public final class RollingRestart {
    private RollingRestart() {}

    /** One broker pod as observed: its ordinal, the template revision it runs, readiness, and whether it is going away. */
    public record PodView(int ordinal, String revision, boolean ready, boolean terminating) {}

    /** The broker's own answer to "may I restart you now?". */
    public record Safety(boolean safe, String reasons) {
        public static final Safety SAFE = new Safety(true, "");
    }

    public sealed interface Decision permits Done, Wait, Restart {}

    /** Every broker runs the target revision. */
    public record Done(int updated) implements Decision {}

    /** Nothing may be restarted now, and why (for the Progressing condition). */
    public record Wait(String reason, int updated) implements Decision {}

    /** Delete this broker's pod: its preStop hands leadership away, the StatefulSet recreates it on the new template. */
    public record Restart(int ordinal, int updated) implements Decision {}

    /**
     * @param limit how many brokers may run the target revision for now (a canary step), or Integer.MAX_VALUE
     * @param safety asked only for the chosen broker
     */
    public static Decision next(List<PodView> pods, int replicas, String targetRevision, int limit, IntFunction<Safety> safety) {
        int updated = (int) pods.stream().filter(p -> targetRevision.equals(p.revision()) && !p.terminating()).count();
        List<PodView> outdated = pods.stream().filter(p -> !targetRevision.equals(p.revision())).toList();
        if (outdated.isEmpty() && pods.size() >= replicas) {
            return new Done(updated);
        }
        Optional<PodView> terminating = pods.stream().filter(PodView::terminating).min(Comparator.comparingInt(PodView::ordinal));
        if (terminating.isPresent()) {
            return new Wait("broker " + terminating.get().ordinal() + " is restarting", updated);
        }
        // A broker that is down on an outdated template serves nothing and cannot answer a safety question: replacing
        // it first can only help. Without this, a crash-looping canary would block its own rollback forever.
        Optional<PodView> downAndOutdated = outdated.stream().filter(p -> !p.ready()).max(Comparator.comparingInt(PodView::ordinal));
        if (downAndOutdated.isPresent() && updated < limit) {
            return new Restart(downAndOutdated.get().ordinal(), updated);
        }
        Optional<PodView> busy = pods.stream().filter(p -> !p.ready()).min(Comparator.comparingInt(PodView::ordinal));
        if (busy.isPresent()) {
            return new Wait("broker " + busy.get().ordinal() + " is not ready yet", updated);
        }
        if (pods.size() < replicas) {
            return new Wait(pods.size() + " of " + replicas + " broker pods exist; waiting for the rest", updated);
        }
        if (updated >= limit) {
            return new Wait(updated + " broker(s) updated, the limit of this step", updated);
        }
        PodView next = outdated.stream().max(Comparator.comparingInt(PodView::ordinal)).orElseThrow();
        Safety verdict = safety.apply(next.ordinal());
        if (!verdict.safe()) {
            return new Wait("broker " + next.ordinal() + " is not safe to restart: " + verdict.reasons(), updated);
        }
        return new Restart(next.ordinal(), updated);
    }
}
