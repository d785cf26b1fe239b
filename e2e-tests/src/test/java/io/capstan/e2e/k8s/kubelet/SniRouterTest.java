package io.capstan.e2e.k8s.kubelet;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import org.junit.jupiter.api.Test;

/** The router reads the server name from a real ClientHello, as the JDK's TLS client writes it. */
class SniRouterTest {
    /** The first record a JDK TLS client sends: with {@code serverName} as its SNI, or (null) none at all. */
    private static byte[] clientHello(String serverName) throws Exception {
        SSLEngine engine = serverName == null ? SSLContext.getDefault().createSSLEngine()
                : SSLContext.getDefault().createSSLEngine("ignored.example", 443);
        engine.setUseClientMode(true);
        if (serverName != null) {
            SSLParameters params = engine.getSSLParameters();
            params.setServerNames(List.of(new SNIHostName(serverName)));
            engine.setSSLParameters(params);
        }
        ByteBuffer out = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
        engine.beginHandshake();
        engine.wrap(ByteBuffer.allocate(0), out);
        out.flip();
        byte[] record = new byte[out.remaining()];
        out.get(record);
        return record;
    }

    @Test
    void theServerNameOfARealClientHelloIsFound() throws Exception {
        assertThat(SniRouter.serverName(clientHello("broker-1.outside.test"))).contains("broker-1.outside.test");
        assertThat(SniRouter.serverName(clientHello("b0.gw.example.com"))).contains("b0.gw.example.com");
    }

    @Test
    void aClientHelloWithoutAServerNameHasNone() throws Exception {
        assertThat(SniRouter.serverName(clientHello(null))).isEqualTo(Optional.empty());
    }
}
