package io.capstan.broker.log;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Bytes handed to the group committer and not yet written. Above the high mark the network stops reading; below
 * half of it, paused connections are resumed. Bounds the broker's memory when the disk is slower than the clients.
 */
public final class PendingWrites implements Backpressure {
    private final long highBytes;
    private final long lowBytes;
    private final AtomicLong pending = new AtomicLong();
    private final AtomicLong pauses = new AtomicLong();
    private final Queue<Runnable> waiting = new ConcurrentLinkedQueue<>();

    public PendingWrites(long highBytes) {
        this.highBytes = highBytes;
        this.lowBytes = highBytes / 2;
    }

    void added(long bytes) {
        pending.addAndGet(bytes);
    }

    void done(long bytes) {
        if (pending.addAndGet(-bytes) <= lowBytes) {
            Runnable r;
            while ((r = waiting.poll()) != null) {
                r.run();
            }
        }
    }

    @Override
    public boolean overloaded() {
        return pending.get() > highBytes;
    }

    @Override
    public void whenRelieved(Runnable resume) {
        pauses.incrementAndGet();
        waiting.add(resume);
        if (pending.get() <= lowBytes) {
            // drained between the check and the registration: resume now rather than wait for another write
            Runnable r;
            while ((r = waiting.poll()) != null) {
                r.run();
            }
        }
    }

    public long pendingBytes() {
        return pending.get();
    }

    public long pauses() {
        return pauses.get();
    }
}
