package io.capstan.broker.security;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.List;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A value built from files (a TLS context from key and trust stores, PLAIN users, an issuer's JWKS) and rebuilt when
 * their content changes, so secrets rotate without a restart. Content is compared rather than timestamps or a file
 * watch, because a Kubernetes Secret volume swaps a symlink, which both can miss; it is checked at most once per
 * {@code checkIntervalMs}, on the caller's thread. The first build's failure is the caller's (a broker refuses to
 * start on unusable material); a later change that cannot be built keeps the previous value and is tried again at
 * the next check, since a file caught half-written is normal during a rotation.
 */
public final class ReloadingFiles<T> {
    private static final Logger log = LoggerFactory.getLogger(ReloadingFiles.class);

    private final String what;
    private final List<Path> files;
    private final Supplier<T> build;
    private final LongSupplier clockMs;
    private final long checkIntervalMs;
    private volatile T current;
    private volatile byte[] fingerprint;
    private volatile long nextCheckMs;

    public ReloadingFiles(String what, List<Path> files, Supplier<T> build, LongSupplier clockMs, long checkIntervalMs) {
        this.what = what;
        this.files = List.copyOf(files);
        this.build = build;
        this.clockMs = clockMs;
        this.checkIntervalMs = checkIntervalMs;
        this.fingerprint = fingerprint();
        this.current = build.get();
        this.nextCheckMs = clockMs.getAsLong() + checkIntervalMs;
    }

    /** The current value, rebuilt first if the files changed since the last check. */
    public T current() {
        long now = clockMs.getAsLong();
        if (now >= nextCheckMs) {
            synchronized (this) {
                if (now >= nextCheckMs) {
                    nextCheckMs = now + checkIntervalMs;
                    rebuildIfChanged();
                }
            }
        }
        return current;
    }

    private void rebuildIfChanged() {
        byte[] latest = fingerprint();
        if (Arrays.equals(latest, fingerprint)) {
            return;
        }
        try {
            current = build.get();
            fingerprint = latest;
            log.info("{} changed ({}); using the new content", what, files);
        } catch (RuntimeException e) {
            log.warn("{} changed but cannot be loaded yet ({}); keeping the previous content and retrying", what, e.getMessage());
        }
    }

    private byte[] fingerprint() {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            for (Path file : files) {
                digest.update(Files.readAllBytes(file));
            }
            return digest.digest();
        } catch (IOException unreadable) {
            return new byte[0]; // differs from any content: the next check tries to build again
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
