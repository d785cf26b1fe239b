package io.capstan.broker.security;

import io.capstan.broker.config.SslSettings;
import io.netty.handler.ssl.SslContext;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.function.Function;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The TLS context of one listener, rebuilt when its key or trust store changes on disk, so certificates rotate
 * without a restart: new connections get the new material, open ones keep theirs. Files are compared by content
 * (a Kubernetes Secret volume swaps a symlink, which a timestamp or a file watch can miss), at most once per
 * {@code checkIntervalMs}. A file caught half-written keeps the old context and is tried again at the next check.
 */
public final class ReloadingTlsContext {
    private static final Logger log = LoggerFactory.getLogger(ReloadingTlsContext.class);

    private final SslSettings settings;
    private final Function<SslSettings, SslContext> build;
    private final LongSupplier clock;
    private final long checkIntervalMs;
    private volatile SslContext current;
    private volatile byte[] fingerprint;
    private volatile long nextCheckMs;

    public ReloadingTlsContext(SslSettings settings, Function<SslSettings, SslContext> build, LongSupplier clock, long checkIntervalMs) {
        this.settings = settings;
        this.build = build;
        this.clock = clock;
        this.checkIntervalMs = checkIntervalMs;
        this.fingerprint = fingerprint();
        this.current = build.apply(settings);
        this.nextCheckMs = clock.getAsLong() + checkIntervalMs;
    }

    public static ReloadingTlsContext server(SslSettings settings) {
        return new ReloadingTlsContext(settings, TlsContexts::server, System::currentTimeMillis, 1_000);
    }

    /** The context for a new connection; reloads first if the files changed since the last check. */
    public SslContext current() {
        long now = clock.getAsLong();
        if (now >= nextCheckMs) {
            synchronized (this) {
                if (now >= nextCheckMs) {
                    nextCheckMs = now + checkIntervalMs;
                    reloadIfChanged();
                }
            }
        }
        return current;
    }

    private void reloadIfChanged() {
        byte[] latest = fingerprint();
        if (Arrays.equals(latest, fingerprint)) {
            return;
        }
        try {
            current = build.apply(settings);
            fingerprint = latest;
            log.info("TLS key or trust store changed ({}); new connections use the new certificates", settings.keystoreLocation());
        } catch (RuntimeException e) {
            log.warn("TLS material changed but cannot be loaded yet ({}); keeping the previous certificates and retrying", e.getMessage());
        }
    }

    private byte[] fingerprint() {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            for (String file : new String[] {settings.keystoreLocation(), settings.truststoreLocation()}) {
                if (!file.isEmpty()) {
                    digest.update(Files.readAllBytes(Path.of(file)));
                }
            }
            return digest.digest();
        } catch (IOException e) {
            return new byte[0];
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
