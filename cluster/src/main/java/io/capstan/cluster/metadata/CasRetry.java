package io.capstan.cluster.metadata;

import java.util.function.UnaryOperator;

/** Read, modify, compare-and-set, and on a lost race read again: the only way anyone writes shared metadata. */
public final class CasRetry {
    private static final int ATTEMPTS = 1000;

    private CasRetry() {}

    /** Applies {@code change} to the key's current value until a compare-and-set wins; returns the new version. */
    public static long update(MetadataStore store, String key, UnaryOperator<byte[]> change) throws ConflictException {
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            Versioned current = store.get(key).orElseThrow(() -> new IllegalStateException(key + " does not exist"));
            try {
                return store.compareAndSet(key, current.version(), change.apply(current.value()));
            } catch (ConflictException lost) {
                Thread.onSpinWait(); // another writer won this round: re-read and try again
            }
        }
        throw new ConflictException("gave up updating " + key + " after " + ATTEMPTS + " lost races");
    }
}
