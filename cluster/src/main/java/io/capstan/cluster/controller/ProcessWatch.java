package io.capstan.cluster.controller;

import io.capstan.cluster.DaemonThreads;
import io.capstan.cluster.metadata.BrokerRegistration;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.IntConsumer;
import java.util.stream.Collectors;

/**
 * Holds one idle TCP connection to each live broker's admin port and reports the broker's id when that connection
 * closes or cannot be made. The kernel closes a process's sockets when it exits (a crash, SIGKILL, the OOM killer), so
 * the controller hears of a gone process within a round trip instead of after a missed lease renewal, while a paused
 * process keeps its connections open and is never reported. A report is only a reason to ask the {@link ProcessProbe}
 * at once: the admin server also closes idle connections on its own, and the probe, not the close, decides.
 *
 * <p>One thread and one selector for all brokers; a broker is reconnected at most once per {@code reconnectMs}.
 */
final class ProcessWatch implements AutoCloseable {
    private record Address(String host, int port) {}

    private record Watched(int id, Address address, SocketChannel channel) {}

    private final IntConsumer lost;
    private final long reconnectMs;
    private final Selector selector;
    private final Thread thread;
    private final Queue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    // the fields below are touched by the watch thread only
    private final Map<Integer, Watched> watched = new HashMap<>();
    private final Map<Integer, Long> attemptedAt = new HashMap<>();
    private final ByteBuffer discard = ByteBuffer.allocate(256);
    private volatile boolean closed;

    ProcessWatch(IntConsumer lost, long reconnectMs) {
        this.lost = lost;
        this.reconnectMs = reconnectMs;
        try {
            this.selector = Selector.open();
        } catch (IOException e) {
            throw new IllegalStateException("cannot open a selector for the controller's process watch: " + e.getMessage(), e);
        }
        this.thread = DaemonThreads.named("capstan-controller-watch").newThread(this::run);
        thread.start();
    }

    /** Watches exactly these brokers from now on (those with an admin port); connections to others are closed. */
    void track(Collection<BrokerRegistration> alive) {
        Map<Integer, Address> wanted = alive.stream().filter(b -> b.host() != null && b.adminPort() > 0)
                .collect(Collectors.toMap(BrokerRegistration::id, b -> new Address(b.host(), b.adminPort()), (a, b) -> b));
        tasks.add(() -> retarget(wanted));
        selector.wakeup();
    }

    private void retarget(Map<Integer, Address> wanted) {
        for (Watched w : Set.copyOf(watched.values())) {
            if (!w.address().equals(wanted.get(w.id()))) {
                forget(w);
            }
        }
        attemptedAt.keySet().retainAll(wanted.keySet());
        long now = System.nanoTime() / 1_000_000;
        wanted.forEach((id, address) -> {
            Long attempted = attemptedAt.get(id);
            if (!watched.containsKey(id) && (attempted == null || now - attempted >= reconnectMs)) {
                attemptedAt.put(id, now);
                connect(id, address);
            }
        });
    }

    private void connect(int id, Address address) {
        SocketChannel channel = null;
        try {
            channel = SocketChannel.open();
            channel.configureBlocking(false);
            Watched w = new Watched(id, address, channel);
            boolean connected = channel.connect(new InetSocketAddress(address.host(), address.port()));
            channel.register(selector, connected ? SelectionKey.OP_READ : SelectionKey.OP_CONNECT, w);
            watched.put(id, w);
        } catch (IOException | RuntimeException e) {
            closeQuietly(channel);
            lost.accept(id);
        }
    }

    private void run() {
        while (!closed) {
            try {
                selector.select(1000);
                for (Runnable task; (task = tasks.poll()) != null; ) {
                    task.run();
                }
                for (SelectionKey key : selector.selectedKeys()) {
                    handle(key);
                }
                selector.selectedKeys().clear();
            } catch (IOException | RuntimeException e) {
                if (!closed) {
                    org.slf4j.LoggerFactory.getLogger(ProcessWatch.class).warn("process watch: {}", e.toString());
                }
            }
        }
    }

    private void handle(SelectionKey key) {
        Watched w = (Watched) key.attachment();
        if (!key.isValid()) {
            return;
        }
        try {
            if (key.isConnectable()) {
                w.channel().finishConnect();
                key.interestOps(SelectionKey.OP_READ);
            } else if (key.isReadable()) {
                discard.clear();
                if (w.channel().read(discard) >= 0) {
                    return; // nothing is expected, but bytes are not a close
                }
                forget(w);
                lost.accept(w.id());
            }
        } catch (IOException e) {
            forget(w);
            lost.accept(w.id());
        }
    }

    private void forget(Watched w) {
        watched.remove(w.id(), w);
        closeQuietly(w.channel());
    }

    private static void closeQuietly(SocketChannel channel) {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // already gone
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        selector.wakeup();
        try {
            thread.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        watched.values().forEach(w -> closeQuietly(w.channel()));
        try {
            selector.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }
}
