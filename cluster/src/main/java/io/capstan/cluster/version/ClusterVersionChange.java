package io.capstan.cluster.version;

import io.capstan.cluster.metadata.BrokerRegistration;
import java.util.Collection;
import java.util.Comparator;
import java.util.stream.Collectors;

/**
 * Whether the cluster version may go from {@code current} to {@code requested}: only up, only to a level this build
 * knows, and only when every registered broker supports it, stopped ones included (a stopped broker that comes back
 * must still understand the cluster). Lowering is refused whatever the downgrade type: a broker may already have
 * written a format the lower version cannot read.
 */
public final class ClusterVersionChange {
    private ClusterVersionChange() {}

    public sealed interface Outcome {}

    public record Raise(ClusterVersion to) implements Outcome {}

    public record Unchanged() implements Outcome {}

    public record Refused(String reason) implements Outcome {}

    public static Outcome decide(ClusterVersion current, int requested, Collection<BrokerRegistration> brokers) {
        if (requested < ClusterVersion.FIRST) {
            return new Refused(ClusterVersion.FEATURE + " cannot be removed or set below " + ClusterVersion.FIRST);
        }
        if (requested > ClusterVersion.LATEST) {
            return new Refused(ClusterVersion.FEATURE + " " + requested + " is newer than this broker supports (" + ClusterVersion.LATEST
                    + "); upgrade every broker to a build that supports it first");
        }
        if (requested < current.level()) {
            return new Refused(ClusterVersion.FEATURE + " is finalized at " + current.level() + " and cannot be lowered to " + requested
                    + ": brokers may have written data that version " + requested + " cannot read");
        }
        if (requested == current.level()) {
            return new Unchanged();
        }
        String behind = brokers.stream().filter(b -> ClusterVersion.supportedBy(b) < requested)
                .sorted(Comparator.comparingInt(BrokerRegistration::id))
                .map(b -> "broker " + b.id() + " supports up to " + ClusterVersion.supportedBy(b))
                .collect(Collectors.joining(", "));
        if (!behind.isEmpty()) {
            return new Refused("cannot finalize " + ClusterVersion.FEATURE + " " + requested + ": " + behind
                    + "; finish upgrading those brokers (or remove them from the cluster) and try again");
        }
        return new Raise(new ClusterVersion(requested));
    }
}
