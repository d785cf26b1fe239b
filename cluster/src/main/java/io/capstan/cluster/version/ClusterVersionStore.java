package io.capstan.cluster.version;

import io.capstan.cluster.metadata.BrokerRegistration;
import io.capstan.cluster.metadata.ConflictException;
import io.capstan.cluster.metadata.MetadataCodec;
import io.capstan.cluster.metadata.MetadataStore;
import io.capstan.cluster.metadata.Versioned;
import java.util.List;
import java.util.Optional;

/** Applies a {@link ClusterVersionChange} to the metadata store with compare-and-set, re-deciding if it lost a race. */
public final class ClusterVersionStore {
    private static final int ATTEMPTS = 5;

    private final MetadataStore store;

    public ClusterVersionStore(MetadataStore store) {
        this.store = store;
    }

    /** Decides (and unless {@code validateOnly} writes) a finalize to {@code requested}; returns the decision. */
    public ClusterVersionChange.Outcome finalizeAt(int requested, boolean validateOnly) {
        for (int attempt = 1; ; attempt++) {
            Optional<Versioned> stored = store.get(ClusterVersion.KEY);
            List<BrokerRegistration> brokers = store.list("brokers/").values().stream()
                    .map(v -> MetadataCodec.decode(v.value(), BrokerRegistration.class)).toList();
            ClusterVersionChange.Outcome outcome = ClusterVersionChange.decide(ClusterVersion.of(stored), requested, brokers);
            if (!(outcome instanceof ClusterVersionChange.Raise raise) || validateOnly) {
                return outcome;
            }
            try {
                byte[] value = MetadataCodec.encode(raise.to());
                if (stored.isPresent()) {
                    store.compareAndSet(ClusterVersion.KEY, stored.get().version(), value);
                } else {
                    store.create(ClusterVersion.KEY, value);
                }
                return outcome;
            } catch (ConflictException raced) {
                if (attempt == ATTEMPTS) {
                    return new ClusterVersionChange.Refused("the cluster version kept changing while it was being finalized; try again");
                }
            }
        }
    }
}
