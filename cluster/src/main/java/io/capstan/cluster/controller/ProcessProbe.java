package io.capstan.cluster.controller;

import io.capstan.cluster.metadata.BrokerRegistration;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;

/**
 * Whether a broker's process is gone, asked when its lease renewals have stopped arriving. Only a refused connection
 * counts: the host answered that nothing listens on the broker's inter-broker port, so the process has exited (a crash,
 * SIGKILL, the OOM killer) and cannot be serving. A paused or overloaded process still has its port open (the kernel
 * accepts for it), and a timeout or an unreachable host says nothing (a partition, a machine that is down): for those
 * the lease runs its course.
 */
@FunctionalInterface
public interface ProcessProbe {
    boolean gone(BrokerRegistration broker);

    /** Never concludes anything: failover waits for leases to run out. */
    ProcessProbe NEVER = broker -> false;

    /** A TCP connect to the broker's inter-broker listener, closed at once; at most {@code timeoutMs} per probe. */
    static ProcessProbe tcp(int timeoutMs) {
        return broker -> {
            if (broker.host() == null || broker.port() <= 0) {
                return false;
            }
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress(broker.host(), broker.port()), timeoutMs);
                return false;
            } catch (ConnectException e) {
                return e.getMessage() != null && e.getMessage().contains("refused");
            } catch (IOException | RuntimeException e) {
                return false;
            }
        };
    }
}
