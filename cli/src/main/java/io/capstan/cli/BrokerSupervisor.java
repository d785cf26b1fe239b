package io.capstan.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The broker processes of {@code capstan cluster up}: each started again when it exits on its own (a crash, the OOM
 * killer, a SIGKILL), as a Kubernetes kubelet restarts a container, so a local cluster heals as a real one does.
 * A broker that keeps exiting is restarted at most once every {@link #MIN_RESTART_INTERVAL_MS}.
 */
final class BrokerSupervisor {
    static final long MIN_RESTART_INTERVAL_MS = 1_000;

    private final boolean restart;
    private final Map<Integer, Process> running = new ConcurrentHashMap<>();
    private volatile boolean stopping;

    BrokerSupervisor(boolean restart) {
        this.restart = restart;
    }

    synchronized Process start(int id, List<String> cmd, Path log) throws IOException {
        if (stopping) {
            throw new IOException("the cluster is stopping");
        }
        long startedAt = System.currentTimeMillis();
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        running.put(id, p);
        p.onExit().thenRun(() -> exited(id, p, cmd, log, startedAt));
        return p;
    }

    private void exited(int id, Process p, List<String> cmd, Path log, long startedAt) {
        if (stopping) {
            return;
        }
        if (!restart) {
            System.err.printf("broker %d exited with status %d and stays stopped (--no-restart); see %s%n", id, p.exitValue(), log);
            return;
        }
        long wait = Math.max(0, startedAt + MIN_RESTART_INTERVAL_MS - System.currentTimeMillis());
        System.err.printf("broker %d exited with status %d; starting it again%s (see %s for why it stopped)%n", id, p.exitValue(),
                wait > 0 ? " in " + wait + " ms" : "", log);
        try {
            Thread.sleep(wait); // rate limit of a crash loop, not synchronisation
            start(id, cmd, log);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            if (stopping) {
                return;
            }
            System.err.printf("error: broker %d could not be started again: %s; restart the cluster%n", id, e.getMessage());
        }
    }

    /** Stops every broker (SIGTERM: each hands its leaderships over), waiting up to 30 s each, then SIGKILL. */
    void stopAll() {
        synchronized (this) {
            stopping = true;
        }
        System.out.println("stopping " + running.size() + " brokers (SIGTERM)...");
        running.values().forEach(Process::destroy);
        for (Process p : running.values()) {
            try {
                if (!p.waitFor(30, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
