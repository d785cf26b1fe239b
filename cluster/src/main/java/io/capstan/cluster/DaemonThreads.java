package io.capstan.cluster;

import java.util.concurrent.ThreadFactory;

/** Named daemon threads for background work (cluster and broker), so a stuck JVM's thread dump says who is who. */
public final class DaemonThreads {
    private DaemonThreads() {}

    public static ThreadFactory named(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }
}
