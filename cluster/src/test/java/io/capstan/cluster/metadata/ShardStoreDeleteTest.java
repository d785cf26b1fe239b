package io.capstan.cluster.metadata;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Found by the soak: deleting a topic while one of its shards was being written left that shard's group behind. */
class ShardStoreDeleteTest {
    @TempDir
    Path dir;

    @Test
    void aGroupWrittenWhileTheTopicIsDeletedIsDeletedAtItsNewVersion() throws Exception {
        try (LocalFileMetadataStore files = new LocalFileMetadataStore(dir, 100)) {
            ShardStore shards = new ShardStore(files);
            shards.create(List.of(new ShardState("t", 0, List.of(1, 2), 1, 0, List.of(1, 2)), new ShardState("t", 1, List.of(2, 1), 2, 0, List.of(2, 1))));
            // the first delete of the group races a leader moving shard 0 (as a controlled shutdown would)
            MetadataStore racing = new Delegating(files) {
                private boolean raced;

                @Override
                public void delete(String key, long expectedVersion) throws ConflictException {
                    if (!raced) {
                        raced = true;
                        VersionedShard s = shards.get("t", 0).orElseThrow();
                        shards.compareAndSet(s.state().electLeader(2), s.version());
                    }
                    super.delete(key, expectedVersion);
                }
            };
            new ShardStore(racing).delete("t");
            assertThat(files.list(ShardStore.PREFIX + "t/")).as("groups of the deleted topic").isEmpty();
        }
    }

    /** A store that passes every call on. */
    private static class Delegating implements MetadataStore {
        private final MetadataStore inner;

        Delegating(MetadataStore inner) {
            this.inner = inner;
        }

        @Override public Optional<Versioned> get(String key) { return inner.get(key); }
        @Override public Map<String, Versioned> list(String prefix) { return inner.list(prefix); }
        @Override public long create(String key, byte[] value) throws ConflictException { return inner.create(key, value); }
        @Override public long compareAndSet(String key, long expectedVersion, byte[] value) throws ConflictException {
            return inner.compareAndSet(key, expectedVersion, value);
        }
        @Override public void delete(String key, long expectedVersion) throws ConflictException { inner.delete(key, expectedVersion); }
        @Override public AutoCloseable watch(String prefix, MetadataListener listener) { return inner.watch(prefix, listener); }
        @Override public void close() { }
    }
}
