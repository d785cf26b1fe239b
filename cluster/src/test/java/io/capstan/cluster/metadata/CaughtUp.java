package io.capstan.cluster.metadata;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Duration;

/** Tests: waits until a cache has seen everything written to the store so far, by writing a marker and awaiting it. */
public final class CaughtUp {
    private CaughtUp() {}

    public static void with(MetadataStore store, MetadataCache cache) throws ConflictException {
        byte[] now = String.valueOf(System.nanoTime()).getBytes(StandardCharsets.UTF_8);
        long version = store.get("test/sync").isPresent()
                ? CasRetry.update(store, "test/sync", old -> now) : store.create("test/sync", now);
        assertThat(cache.awaitRevision(version, Duration.ofSeconds(30))).as("cache caught up with the store").isTrue();
    }

    /** A file store's watches follow the log now (tests that hold them back with a long poll interval). */
    public static void poll(LocalFileMetadataStore store) {
        store.pollNow();
    }
}
