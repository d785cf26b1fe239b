package io.capstan.broker.log;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.WriteBatch;

/** The on-disk format a store records, and a broker refusing a store of a newer format than its own. */
class FormatVersionTest {
    @TempDir
    Path dir;

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** As another build would have left the store, with a record: its format key set to {@code version}, or none (null). */
    private void recordFormat(Integer version) throws Exception {
        try (LogStore store = new LogStore(dir, 1 << 20, 1 << 20); WriteBatch batch = new WriteBatch()) {
            if (version == null) {
                batch.delete(store.metaFamily(), bytes(LogStore.FORMAT_KEY));
            } else {
                batch.put(store.metaFamily(), bytes(LogStore.FORMAT_KEY), ByteBuffer.allocate(4).putInt(version).array());
            }
            batch.put(store.logFamily(), LogKeys.of(7, 0), bytes("a record"));
            store.write(batch, true);
        }
    }

    @Test
    void aNewStoreWithoutDataFilesRecordsTheInlineFormatThatOlderBrokersRead() {
        try (LogStore store = new LogStore(dir, 1 << 20, 1 << 20)) {
            assertThat(store.formatVersion()).isEqualTo(LogStore.INLINE_FORMAT).isEqualTo(1);
        }
        try (LogStore store = new LogStore(dir, 1 << 20, 1 << 20)) {
            assertThat(store.formatVersion()).as("kept across restarts").isEqualTo(1);
        }
    }

    @Test
    void aStoreFromBeforeFormatVersionsIsLabelledFormatOne() throws Exception {
        recordFormat(null);
        try (LogStore store = new LogStore(dir, 1 << 20, 1 << 20)) {
            assertThat(store.getMeta(LogStore.FORMAT_KEY)).as("labelled on open").isNotNull();
            assertThat(store.formatVersion()).isEqualTo(1);
        }
    }

    @Test
    void aStoreInANewerFormatIsRefusedNamingBothFormatsAndLeftAsItWas() throws Exception {
        recordFormat(LogStore.FORMAT_VERSION + 1);
        assertThatThrownBy(() -> new LogStore(dir, 1 << 20, 1 << 20))
                .isInstanceOf(StorageException.class)
                .hasMessageStartingWith("the log in " + dir + " is in on-disk format 4, written by a newer Capstan; this broker reads formats up to 3")
                .hasMessageContaining("Run the Capstan version that wrote it (or a newer one) on this data.dir");
        // the refusal closed the store (it can be opened again) and changed nothing: still format 4, the record there
        recordFormatUnchecked();
    }

    /** Reads the store back without the format check, as the newer build would. */
    private void recordFormatUnchecked() throws Exception {
        try (org.rocksdb.DBOptions options = new org.rocksdb.DBOptions()) {
            var families = java.util.List.of(new org.rocksdb.ColumnFamilyDescriptor(org.rocksdb.RocksDB.DEFAULT_COLUMN_FAMILY),
                    new org.rocksdb.ColumnFamilyDescriptor(bytes("log")), new org.rocksdb.ColumnFamilyDescriptor(bytes("producers")),
                    new org.rocksdb.ColumnFamilyDescriptor(bytes("meta")), new org.rocksdb.ColumnFamilyDescriptor(bytes("aborted-txns")));
            java.util.List<org.rocksdb.ColumnFamilyHandle> handles = new java.util.ArrayList<>();
            try (org.rocksdb.RocksDB db = org.rocksdb.RocksDB.openReadOnly(options, dir.toString(), families, handles)) {
                assertThat(ByteBuffer.wrap(db.get(handles.get(3), bytes(LogStore.FORMAT_KEY))).getInt()).isEqualTo(LogStore.FORMAT_VERSION + 1);
                assertThat(new String(db.get(handles.get(1), LogKeys.of(7, 0)), StandardCharsets.UTF_8)).isEqualTo("a record");
            } finally {
                handles.forEach(org.rocksdb.ColumnFamilyHandle::close);
            }
        }
    }

    @Test
    void aFormatRecordOfTheWrongSizeIsReportedAsDamage() throws Exception {
        try (LogStore store = new LogStore(dir, 1 << 20, 1 << 20); WriteBatch batch = new WriteBatch()) {
            batch.put(store.metaFamily(), bytes(LogStore.FORMAT_KEY), new byte[] {1});
            store.write(batch, true);
        }
        assertThatThrownBy(() -> new LogStore(dir, 1 << 20, 1 << 20)).isInstanceOf(StorageException.class)
                .hasMessageContaining("records its on-disk format in 1 bytes instead of 4");
    }
}
