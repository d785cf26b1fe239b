package io.capstan.broker.security;

import io.capstan.config.ConfigException;
import io.capstan.config.SslSettings;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import javax.net.ssl.SSLContext;
import io.netty.handler.ssl.SslProvider;
import java.io.IOException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.List;

/** Builds Netty TLS contexts from Kafka-style key and trust stores, on BoringSSL when it loads and the JDK otherwise. */
public final class TlsContexts {
    private TlsContexts() {}

    public static SslProvider provider() {
        return OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK;
    }

    /** A server context: this broker's key and certificate, and the CAs whose client certificates it accepts. */
    public static SslContext server(SslSettings s) {
        try {
            SslContextBuilder builder = SslContextBuilder.forServer(KeyMaterial.keyManagers(s));
            if (!s.truststoreLocation().isEmpty()) {
                builder.trustManager(KeyMaterial.trustManagers(s));
            }
            builder.clientAuth(switch (s.clientAuth()) {
                case NONE -> ClientAuth.NONE;
                case REQUESTED -> ClientAuth.OPTIONAL;
                case REQUIRED -> ClientAuth.REQUIRE;
            });
            builder.sslProvider(provider()).protocols(s.enabledProtocols());
            if (!s.cipherSuites().isEmpty()) {
                builder.ciphers(s.cipherSuites());
            }
            return builder.build();
        } catch (IOException | GeneralSecurityException | IllegalArgumentException e) {
            throw new ConfigException("cannot load TLS material (" + s.keystoreType() + " " + s.keystoreLocation() + ", trust "
                    + (s.truststoreLocation().isEmpty() ? "none" : s.truststoreType() + " " + s.truststoreLocation()) + "): "
                    + e.getMessage() + "; check the files and passwords");
        }
    }

    /**
     * A JDK context for a broker connecting to another over blocking sockets (the follower's fetcher): its own
     * certificate (for mTLS) and the CAs it trusts (the JVM's when no trust store is set).
     */
    public static SSLContext client(SslSettings s) {
        try {
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(KeyMaterial.keyManagers(s).getKeyManagers(),
                    s.truststoreLocation().isEmpty() ? null : KeyMaterial.trustManagers(s).getTrustManagers(), null);
            return context;
        } catch (IOException | GeneralSecurityException e) {
            throw new ConfigException("cannot load TLS client material for replication: " + e.getMessage());
        }
    }

    /** The files a context is built from: a change to either is a rotation. */
    public static List<Path> storeFiles(SslSettings s) {
        return s.truststoreLocation().isEmpty() ? List.of(Path.of(s.keystoreLocation()))
                : List.of(Path.of(s.keystoreLocation()), Path.of(s.truststoreLocation()));
    }
}
