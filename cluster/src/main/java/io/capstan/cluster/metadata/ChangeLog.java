package io.capstan.cluster.metadata;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * The file store's history: every change, in revision order, in segment files under {@code .changes/} named after
 * their first revision. A writer appends (and fsyncs) a change here before it touches the key's file, so the log is
 * the commit point and watchers can follow it without any lock. A record is
 * {@code [length][revision][op][key length][key][value][crc32c]}; a reader stops at the first record that is incomplete
 * or fails its checksum (being written, or torn by a crash: the next writer, holding the lock, truncates it).
 * Only the newest two segments are kept; a watcher that was further behind lists the store again.
 */
final class ChangeLog {
    private static final byte PUT = 0;
    private static final byte DELETE = 1;
    private static final int HEADER = 4;
    private static final int FIXED = 8 + 1 + 2;
    private static final int TRAILER = 4;

    private final Path dir;
    private final long segmentBytes;

    /** One change as logged; {@code value} is null for a delete. {@code start}/{@code end} are its offsets in its segment. */
    record Change(long revision, String key, byte[] value, long segment, long start, long end) {
        boolean isDelete() {
            return value == null;
        }
    }

    /** Where a log ends: the segment (its first revision), the offset after the last complete record, the last revision. */
    record Tail(long segment, long end, long revision, Change last) {}

    ChangeLog(Path root, long segmentBytes) {
        this.dir = root.resolve(".changes");
        this.segmentBytes = segmentBytes;
    }

    Path segmentFile(long firstRevision) {
        return dir.resolve(String.format("%020d.log", firstRevision));
    }

    /** The segments that exist, oldest first (by first revision). */
    List<Long> segments() {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".log"))
                    .map(n -> Long.parseLong(n.substring(0, n.length() - 4))).sorted().toList();
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list the change log in " + dir, e);
        }
    }

    /**
     * The complete records of a segment from {@code offset}, stopping at the first incomplete or corrupt one.
     * Empty if the segment does not exist (it was deleted: the caller is too far behind).
     */
    Optional<List<Change>> read(long segment, long offset) {
        byte[] bytes;
        try (FileChannel ch = FileChannel.open(segmentFile(segment), StandardOpenOption.READ)) {
            long size = ch.size();
            if (size <= offset) {
                return Optional.of(List.of());
            }
            ByteBuffer buf = ByteBuffer.allocate(Math.toIntExact(size - offset));
            while (buf.hasRemaining() && ch.read(buf, offset + buf.position()) >= 0) {
                // read what is there now; a record still being appended is simply incomplete
            }
            bytes = buf.array();
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the change log segment " + segmentFile(segment), e);
        }
        List<Change> out = new ArrayList<>();
        ByteBuffer in = ByteBuffer.wrap(bytes);
        while (in.remaining() >= HEADER) {
            int start = in.position();
            int length = in.getInt();
            if (length < FIXED || length > in.remaining() - TRAILER) {
                break;
            }
            CRC32C crc = new CRC32C();
            crc.update(bytes, start + HEADER, length);
            long revision = in.getLong();
            byte op = in.get();
            int keyLength = Short.toUnsignedInt(in.getShort());
            if (keyLength > length - FIXED || (op != PUT && op != DELETE)) {
                break;
            }
            String key = new String(bytes, in.position(), keyLength, StandardCharsets.UTF_8);
            in.position(in.position() + keyLength);
            byte[] value = new byte[length - FIXED - keyLength];
            in.get(value);
            if (in.getInt() != (int) crc.getValue()) {
                break;
            }
            out.add(new Change(revision, key, op == DELETE ? null : value, segment, offset + start, offset + in.position()));
        }
        return Optional.of(out);
    }

    /**
     * Writer, under the store lock: where the log ends now. {@code known} is this process's last answer (so only what
     * others appended since is scanned); a torn record at the end, left by a writer that died, is cut off here.
     */
    Tail tail(Tail known, long legacyRevision) throws IOException {
        List<Long> segments = segments();
        if (segments.isEmpty()) {
            return new Tail(legacyRevision + 1, 0, legacyRevision, null);
        }
        long newest = segments.get(segments.size() - 1);
        Tail from = known != null && known.segment() == newest ? known : new Tail(newest, 0, newest - 1, null);
        Path file = segmentFile(newest);
        long size = Files.size(file);
        if (size == from.end()) {
            return from;
        }
        if (size < from.end()) {
            from = new Tail(newest, 0, newest - 1, null);
        }
        List<Change> more = read(newest, from.end()).orElseThrow(() -> new NoSuchFileException(file.toString()));
        Tail tail = more.isEmpty() ? from : new Tail(newest, more.get(more.size() - 1).end(), more.get(more.size() - 1).revision(),
                more.get(more.size() - 1));
        if (tail.end() < size) {
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
                ch.truncate(tail.end());
                ch.force(true);
            }
        }
        return tail;
    }

    /** Writer, under the store lock: appends one change after {@code tail}, durably; returns the new tail. */
    Tail append(Tail tail, String key, byte[] valueOrNullForDelete) throws IOException {
        long revision = tail.revision() + 1;
        long segment = tail.segment();
        long offset = tail.end();
        boolean rotate = offset >= segmentBytes;
        if (rotate) {
            segment = revision;
            offset = 0;
        }
        Files.createDirectories(dir);
        byte[] record = encode(revision, key, valueOrNullForDelete);
        Path file = segmentFile(segment);
        boolean created = !Files.exists(file);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            ByteBuffer buf = ByteBuffer.wrap(record);
            while (buf.hasRemaining()) {
                ch.write(buf, offset + buf.position());
            }
            ch.force(false);
        }
        if (created) {
            LocalFileMetadataStore.fsyncDirectory(dir);
        }
        if (rotate) {
            dropSegmentsBefore(tail.segment());
        }
        return new Tail(segment, offset + record.length, revision,
                new Change(revision, key, valueOrNullForDelete, segment, offset, offset + record.length));
    }

    /** Keeps the segment just finished (watchers may still be reading it) and everything newer. */
    private void dropSegmentsBefore(long keep) throws IOException {
        for (long s : segments()) {
            if (s < keep) {
                Files.deleteIfExists(segmentFile(s));
            }
        }
    }

    private static byte[] encode(long revision, String key, byte[] value) {
        byte[] k = key.getBytes(StandardCharsets.UTF_8);
        if (k.length > 0xFFFF) {
            throw new IllegalArgumentException("metadata key longer than 65535 bytes: " + key.substring(0, 64) + "...");
        }
        int valueLength = value == null ? 0 : value.length;
        int length = FIXED + k.length + valueLength;
        ByteBuffer buf = ByteBuffer.allocate(HEADER + length + TRAILER);
        buf.putInt(length).putLong(revision).put(value == null ? DELETE : PUT).putShort((short) k.length).put(k);
        if (value != null) {
            buf.put(value);
        }
        CRC32C crc = new CRC32C();
        crc.update(buf.array(), HEADER, length);
        buf.putInt((int) crc.getValue());
        return buf.array();
    }
}
