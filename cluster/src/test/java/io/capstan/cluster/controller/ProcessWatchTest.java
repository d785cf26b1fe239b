package io.capstan.cluster.controller;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.cluster.metadata.BrokerRegistration;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Real sockets on the loopback interface, standing in for brokers' admin ports. */
class ProcessWatchTest {
    private final BlockingQueue<Integer> lost = new LinkedBlockingQueue<>();

    private static BrokerRegistration broker(int id, int adminPort) {
        return new BrokerRegistration(id, "127.0.0.1", 1, null, Long.MAX_VALUE, adminPort);
    }

    @Test
    void reportsTheBrokerWhoseConnectionClosesAndNotTheOneThatStaysOpen() throws Exception {
        try (ServerSocket dying = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
             ServerSocket paused = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
             ProcessWatch watch = new ProcessWatch(lost::add, 60_000)) {
            watch.track(List.of(broker(1, dying.getLocalPort()), broker(2, paused.getLocalPort())));
            // the paused one never accepts: the kernel completes the connection for it, as for a SIGSTOPped process
            Socket accepted = dying.accept();
            accepted.close(); // what the kernel does to every socket of a process that exits

            assertThat(lost.poll(10, TimeUnit.SECONDS)).isEqualTo(1);
            // a later close is reported after the paused broker's connection would have been: still nothing for it
            try (ServerSocket third = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
                watch.track(List.of(broker(2, paused.getLocalPort()), broker(3, third.getLocalPort())));
                third.accept().close();
                assertThat(lost.poll(10, TimeUnit.SECONDS)).isEqualTo(3);
            }
            assertThat(lost).isEmpty();
        }
    }

    @Test
    void aBrokerThatRefusesTheConnectionIsReportedAndRetriedOnlyAfterTheReconnectInterval() throws Exception {
        int port;
        try (ServerSocket closed = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = closed.getLocalPort();
        }
        try (ProcessWatch watch = new ProcessWatch(lost::add, 60_000)) {
            watch.track(List.of(broker(7, port)));
            assertThat(lost.poll(10, TimeUnit.SECONDS)).isEqualTo(7);
            watch.track(List.of(broker(7, port)));
            watch.track(List.of(broker(8, port)));
            assertThat(lost.poll(10, TimeUnit.SECONDS)).isEqualTo(8); // a new broker is tried at once
            assertThat(lost).isEmpty(); // broker 7 not again within the interval
        }
    }

    @Test
    void aBrokerNoLongerAliveIsNoLongerWatched() throws Exception {
        try (ServerSocket admin = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
             ProcessWatch watch = new ProcessWatch(lost::add, 60_000)) {
            watch.track(List.of(broker(1, admin.getLocalPort())));
            Socket accepted = admin.accept();
            watch.track(List.of());
            // the watch closes its end: the server side reads end-of-stream, and nothing is reported
            assertThat(accepted.getInputStream().read()).isEqualTo(-1);
            accepted.close();
            watch.track(List.of(broker(9, admin.getLocalPort())));
            admin.accept().close();
            assertThat(lost.poll(10, TimeUnit.SECONDS)).isEqualTo(9);
            assertThat(lost).isEmpty();
        }
    }
}
