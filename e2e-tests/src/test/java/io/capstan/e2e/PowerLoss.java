package io.capstan.e2e;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A simulated machine crash for processes running with the power-loss shim (src/test/c/powerloss.c): after the
 * process is killed, {@link #cut()} undoes every write to a file under the watched directory that no fsync made
 * durable, newest first, so the files hold what a disk holds after losing power at that moment. File data only:
 * file creation, renames and deletions count as durable at once.
 */
final class PowerLoss {
    /** What one cut undid. */
    record Cut(long writesUndone, long bytesUndone, List<Path> changed) {
        /** How many files the cut changed. */
        int files() {
            return changed.size();
        }
    }

    private final Path library;
    private final Path under;
    private final Path journal;

    /** Watches every file under {@code under}; the journal lives outside it. */
    PowerLoss(Path library, Path under, Path journal) {
        this.library = library;
        this.under = under.toAbsolutePath();
        this.journal = journal.toAbsolutePath();
    }

    /** The environment that loads the shim into a process. */
    Map<String, String> environment() {
        return Map.of("LD_PRELOAD", library.toString(), "CAPSTAN_POWERLOSS_UNDER", under.toString(),
                "CAPSTAN_POWERLOSS_JOURNAL", journal.toString());
    }

    private record Inode(long dev, long ino) {}

    /** One undo record: the file's size before a write or truncate, and the bytes it replaced from {@code oldFrom}. */
    private record Undo(long sizeBefore, long oldFrom, byte[] old) {}

    /**
     * The power goes: call it only once every process writing under the directory is dead. Undoes what was not
     * fsynced and starts a fresh journal (what is left is, by definition, on disk).
     */
    Cut cut() throws IOException {
        Map<Inode, List<Undo>> pending = new HashMap<>();
        if (Files.exists(journal)) {
            ByteBuffer in = ByteBuffer.wrap(Files.readAllBytes(journal)).order(ByteOrder.LITTLE_ENDIAN);
            Map<Inode, List<long[]>> writes = new HashMap<>(); // journal offset of each record, per inode
            Map<Inode, List<Undo>> undos = new HashMap<>();
            Map<Inode, Long> covered = new HashMap<>();
            long allCovered = 0;
            while (in.hasRemaining()) {
                long at = in.position();
                if (torn(in)) {
                    // the process died while journaling: the shim journals before it writes, so that write never happened
                    break;
                }
                char type = (char) in.get();
                switch (type) {
                    case 'W' -> {
                        Inode inode = new Inode(in.getLong(), in.getLong());
                        long offset = in.getLong();
                        in.getLong(); // length written
                        long sizeBefore = in.getLong();
                        byte[] old = bytes(in);
                        record(writes, undos, inode, at, new Undo(sizeBefore, Math.min(offset, sizeBefore), old));
                    }
                    case 'T' -> {
                        Inode inode = new Inode(in.getLong(), in.getLong());
                        long newLength = in.getLong();
                        long sizeBefore = in.getLong();
                        byte[] old = bytes(in);
                        record(writes, undos, inode, at, new Undo(sizeBefore, newLength, old));
                    }
                    case 'S' -> covered.merge(new Inode(in.getLong(), in.getLong()), in.getLong(), Math::max);
                    case 'A' -> allCovered = Math.max(allCovered, in.getLong());
                    case 'D' -> {
                        Inode gone = new Inode(in.getLong(), in.getLong());
                        writes.remove(gone);
                        undos.remove(gone);
                        covered.remove(gone);
                    }
                    default -> throw new IOException("power-loss journal " + journal + " is damaged at byte " + at + " (record type " + (int) type + ")");
                }
            }
            for (Map.Entry<Inode, List<long[]>> e : writes.entrySet()) {
                long durableBefore = Math.max(allCovered, covered.getOrDefault(e.getKey(), 0L));
                List<Undo> all = undos.get(e.getKey());
                List<Undo> lost = new ArrayList<>();
                for (int i = 0; i < all.size(); i++) {
                    if (e.getValue().get(i)[0] >= durableBefore) {
                        lost.add(all.get(i));
                    }
                }
                if (!lost.isEmpty()) {
                    pending.put(e.getKey(), lost);
                }
            }
        }
        Cut cut = undo(pending);
        Files.deleteIfExists(journal);
        return cut;
    }

    /**
     * Whether the record at the buffer's position is cut short by the end of the journal (found by the 25-minute soak:
     * a SIGKILL during the shim's journal write left half a record). Reads a copy, so the position stays.
     */
    private static boolean torn(ByteBuffer in) {
        ByteBuffer probe = in.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        try {
            char type = (char) probe.get();
            switch (type) {
                case 'W' -> {
                    probe.position(probe.position() + 40);
                    bytes(probe);
                }
                case 'T' -> {
                    probe.position(probe.position() + 32);
                    bytes(probe);
                }
                case 'S' -> probe.position(probe.position() + 24);
                case 'A' -> probe.position(probe.position() + 8);
                case 'D' -> probe.position(probe.position() + 16);
                default -> {
                    return false; // not torn but unknown: the parser says the journal is damaged
                }
            }
            return false;
        } catch (java.nio.BufferUnderflowException | IllegalArgumentException cutShort) {
            return true;
        }
    }

    private static void record(Map<Inode, List<long[]>> writes, Map<Inode, List<Undo>> undos, Inode inode, long at, Undo undo) {
        writes.computeIfAbsent(inode, k -> new ArrayList<>()).add(new long[] {at});
        undos.computeIfAbsent(inode, k -> new ArrayList<>()).add(undo);
    }

    private static byte[] bytes(ByteBuffer in) {
        byte[] b = new byte[Math.toIntExact(in.getLong())];
        in.get(b);
        return b;
    }

    /** Newest first, each file back to its state before each undone write. */
    private Cut undo(Map<Inode, List<Undo>> pending) throws IOException {
        Map<Inode, Path> files = new HashMap<>();
        try (Stream<Path> walk = Files.walk(under)) {
            for (Path p : walk.filter(Files::isRegularFile).toList()) {
                files.put(new Inode(((Number) Files.getAttribute(p, "unix:dev")).longValue(),
                        ((Number) Files.getAttribute(p, "unix:ino")).longValue()), p);
            }
        }
        List<Path> changedFiles = new ArrayList<>();
        long undone = 0;
        long bytes = 0;
        for (Map.Entry<Inode, List<Undo>> e : pending.entrySet()) {
            Path file = files.get(e.getKey());
            if (file == null) {
                continue; // deleted since: nothing of it is left to lose
            }
            changedFiles.add(file);
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
                List<Undo> list = e.getValue();
                for (int i = list.size() - 1; i >= 0; i--) {
                    Undo u = list.get(i);
                    long size = ch.size();
                    bytes += Math.max(0, size - u.sizeBefore()) + u.old().length;
                    if (size > u.sizeBefore()) {
                        ch.truncate(u.sizeBefore());
                    }
                    ByteBuffer old = ByteBuffer.wrap(u.old());
                    long at = u.oldFrom();
                    while (old.hasRemaining()) {
                        at += ch.write(old, at);
                    }
                    undone++;
                }
            }
        }
        return new Cut(undone, bytes, changedFiles);
    }
}
