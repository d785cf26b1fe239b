package io.capstan.cluster.metadata;

import java.util.Map;
import java.util.Optional;

/**
 * The store it wraps, telling an observer how long each request took and how it ended: the metadata store is the
 * API server on Kubernetes, and a slow or failing one shows first as slow failovers and lease renewals. Watches are
 * long-lived and not timed.
 */
public final class TimedMetadataStore implements MetadataStore {
    /** How a request ended: a conflict is a compare-and-set that lost a race (expected), an error anything else thrown. */
    public enum Outcome { OK, CONFLICT, ERROR }

    /** Told of each request: get, list, create, compare_and_set or delete. */
    public interface Observer {
        void observed(String operation, long nanos, Outcome outcome);
    }

    private final MetadataStore inner;
    private final Observer observer;

    public TimedMetadataStore(MetadataStore inner, Observer observer) {
        this.inner = inner;
        this.observer = observer;
    }

    @Override
    public Optional<Versioned> get(String key) {
        return timed("get", () -> inner.get(key));
    }

    @Override
    public Map<String, Versioned> list(String prefix) {
        return timed("list", () -> inner.list(prefix));
    }

    @Override
    public long create(String key, byte[] value) throws ConflictException {
        return timed("create", () -> inner.create(key, value));
    }

    @Override
    public long compareAndSet(String key, long expectedVersion, byte[] value) throws ConflictException {
        return timed("compare_and_set", () -> inner.compareAndSet(key, expectedVersion, value));
    }

    @Override
    public void delete(String key, long expectedVersion) throws ConflictException {
        timed("delete", () -> {
            inner.delete(key, expectedVersion);
            return null;
        });
    }

    private interface Request<T, E extends Exception> {
        T send() throws E;
    }

    private <T, E extends Exception> T timed(String operation, Request<T, E> request) throws E {
        long start = System.nanoTime();
        Outcome outcome = Outcome.ERROR;
        try {
            T result = request.send();
            outcome = Outcome.OK;
            return result;
        } catch (Throwable e) {
            outcome = e instanceof ConflictException ? Outcome.CONFLICT : Outcome.ERROR;
            throw e;
        } finally {
            observer.observed(operation, System.nanoTime() - start, outcome);
        }
    }

    @Override
    public AutoCloseable watch(String prefix, MetadataListener listener) {
        return inner.watch(prefix, listener);
    }

    @Override
    public void close() {
        inner.close();
    }
}
