package io.capstan.cluster.metadata;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each request to a real (local) store is reported once, with its operation and how it ended. */
class TimedMetadataStoreTest {
    @TempDir
    Path dir;

    private record Seen(String operation, long nanos, TimedMetadataStore.Outcome outcome) {}

    @Test
    void eachRequestIsReportedWithItsOutcome() throws Exception {
        List<Seen> seen = new ArrayList<>();
        try (TimedMetadataStore store = new TimedMetadataStore(new LocalFileMetadataStore(dir, 50),
                (operation, nanos, outcome) -> seen.add(new Seen(operation, nanos, outcome)))) {
            long v = store.create("k", bytes("1"));
            assertThatThrownBy(() -> store.create("k", bytes("2"))).isInstanceOf(ConflictException.class);
            long v2 = store.compareAndSet("k", v, bytes("3"));
            assertThatThrownBy(() -> store.compareAndSet("k", v, bytes("4"))).as("a stale version").isInstanceOf(ConflictException.class);
            assertThat(store.get("k")).isPresent();
            assertThat(store.list("")).containsKey("k");
            store.delete("k", v2);
        }
        assertThat(seen).extracting(Seen::operation).containsExactly("create", "create", "compare_and_set", "compare_and_set", "get", "list",
                "delete");
        assertThat(seen).extracting(Seen::outcome).containsExactly(TimedMetadataStore.Outcome.OK, TimedMetadataStore.Outcome.CONFLICT,
                TimedMetadataStore.Outcome.OK, TimedMetadataStore.Outcome.CONFLICT, TimedMetadataStore.Outcome.OK,
                TimedMetadataStore.Outcome.OK, TimedMetadataStore.Outcome.OK);
        assertThat(seen).allSatisfy(s -> assertThat(s.nanos()).isPositive());
    }

    @Test
    void aRequestThatFailsOtherwiseIsAnError() {
        List<Seen> seen = new ArrayList<>();
        LocalFileMetadataStore closed = new LocalFileMetadataStore(dir, 50);
        TimedMetadataStore store = new TimedMetadataStore(new MetadataStore() {
            @Override public java.util.Optional<Versioned> get(String key) { throw new IllegalStateException("the API server is unreachable"); }
            @Override public java.util.Map<String, Versioned> list(String prefix) { return closed.list(prefix); }
            @Override public long create(String key, byte[] value) throws ConflictException { return closed.create(key, value); }
            @Override public long compareAndSet(String key, long expected, byte[] value) throws ConflictException { return closed.compareAndSet(key, expected, value); }
            @Override public void delete(String key, long expected) throws ConflictException { closed.delete(key, expected); }
            @Override public AutoCloseable watch(String prefix, MetadataListener listener) { return closed.watch(prefix, listener); }
            @Override public void close() { closed.close(); }
        }, (operation, nanos, outcome) -> seen.add(new Seen(operation, nanos, outcome)));
        assertThatThrownBy(() -> store.get("k")).hasMessageContaining("unreachable");
        assertThat(seen).extracting(Seen::outcome).containsExactly(TimedMetadataStore.Outcome.ERROR);
        store.close();
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
