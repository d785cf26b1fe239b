package io.capstan.broker.log;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32C;

/**
 * How far RocksDB's write-ahead log was synced, as the data-file mark of the next round after the last one it held
 * then (decision 0033), kept in a small file of its own in the data directory. RocksDB recovers its WAL in
 * point-in-time mode, which keeps the prefix before any damage as it keeps the prefix before an unsynced end a crash
 * cut: this mark tells the two apart. A recovered index that ends before it lost writes RocksDB had synced: damage.
 */
final class IndexSyncMark implements AutoCloseable {
    static final String FILE = "index-synced";
    static final long NONE = -1;
    private final Path path;
    private FileChannel channel;
    private final ByteBuffer buffer = ByteBuffer.allocate(12);

    IndexSyncMark(Path dataDir) {
        this.path = dataDir.resolve(FILE);
    }

    /** The mark last recorded, or {@link #NONE} when there is none whole (never recorded, or cut by a crash mid-write). */
    long read() {
        try {
            if (!Files.exists(path)) {
                return NONE;
            }
            byte[] bytes = Files.readAllBytes(path);
            if (bytes.length < 12) {
                return NONE;
            }
            ByteBuffer b = ByteBuffer.wrap(bytes);
            long mark = b.getLong(0);
            CRC32C crc = new CRC32C();
            crc.update(bytes, 0, 8);
            return b.getInt(8) == (int) crc.getValue() ? mark : NONE;
        } catch (IOException e) {
            throw new StorageException("cannot read " + path + ": " + e.getMessage(), e);
        }
    }

    /** Records {@code mark} durably. Call only after the RocksDB sync that covers the round it names has returned. */
    synchronized void record(long mark) throws IOException {
        CRC32C crc = new CRC32C();
        buffer.clear().putLong(0, mark);
        crc.update(buffer.array(), 0, 8);
        buffer.putInt(8, (int) crc.getValue());
        try {
            write();
        } catch (java.nio.channels.ClosedByInterruptException e) {
            // an interrupt of the calling thread closed the channel (as DataFiles meets it): write again, keep the interrupt
            boolean interrupted = Thread.interrupted();
            channel = null;
            try {
                write();
            } finally {
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    private void write() throws IOException {
        if (channel == null || !channel.isOpen()) {
            channel = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        }
        buffer.clear();
        channel.write(buffer, 0);
        channel.force(false);
    }

    /** Forgets the mark: the store no longer writes rounds. */
    synchronized void delete() throws IOException {
        close();
        Files.deleteIfExists(path);
    }

    @Override
    public synchronized void close() {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // closing anyway
            }
            channel = null;
        }
    }
}
