package io.capstan.cluster.controller;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.cluster.metadata.BrokerRegistration;
import java.net.InetAddress;
import java.net.ServerSocket;
import org.junit.jupiter.api.Test;

/** Real sockets on the loopback interface. */
class ProcessProbeTest {
    private final ProcessProbe probe = ProcessProbe.tcp(2000);

    private static BrokerRegistration at(String host, int port) {
        return new BrokerRegistration(1, host, port, null, Long.MAX_VALUE);
    }

    @Test
    void aPortThatRefusesConnectionsMeansTheProcessIsGone() throws Exception {
        int port;
        try (ServerSocket closed = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = closed.getLocalPort();
        }
        assertThat(probe.gone(at("127.0.0.1", port))).isTrue();
    }

    @Test
    void aListeningPortMeansItIsNotGoneEvenIfNothingAcceptsConnections() throws Exception {
        // a paused process: its listening socket stays open and the kernel completes connections for it
        try (ServerSocket paused = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            assertThat(probe.gone(at("127.0.0.1", paused.getLocalPort()))).isFalse();
        }
    }

    @Test
    void anAddressThatCannotBeResolvedSaysNothing() {
        assertThat(probe.gone(at("no-such-broker.invalid", 9092))).isFalse();
        assertThat(probe.gone(at(null, 9092))).isFalse();
        assertThat(probe.gone(at("127.0.0.1", 0))).isFalse();
    }
}
