package io.capstan.broker.security;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Properties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * SASL PLAIN users from a properties file of {@code user=password} lines, re-read when it changes (checked at most
 * once a second). Meant for tests and simple setups: the file holds passwords in the clear, which is why SCRAM is the
 * default mechanism.
 */
public final class PlainCredentials {
    private static final Logger log = LoggerFactory.getLogger(PlainCredentials.class);

    private final Path file;
    private volatile Properties users = new Properties();
    private volatile long checkedAtMs;
    private volatile long modifiedAt = Long.MIN_VALUE;

    public PlainCredentials(Path file) {
        this.file = file;
        reloadIfChanged();
        if (users.isEmpty()) {
            log.warn("sasl.plain.credentials.file {} holds no users; every PLAIN login will fail", file);
        }
    }

    /** Whether the password is the user's, compared in constant time so timing does not reveal a prefix. */
    public boolean check(String user, char[] password) {
        long now = System.currentTimeMillis();
        if (now - checkedAtMs >= 1_000) {
            checkedAtMs = now;
            reloadIfChanged();
        }
        String expected = users.getProperty(user);
        byte[] given = new String(password).getBytes(StandardCharsets.UTF_8);
        byte[] wanted = (expected == null ? "\u0000no such user" : expected).getBytes(StandardCharsets.UTF_8);
        return MessageDigest.isEqual(given, wanted) && expected != null;
    }

    private synchronized void reloadIfChanged() {
        try {
            long modified = Files.getLastModifiedTime(file).toMillis() ^ Files.size(file);
            if (modified == modifiedAt) {
                return;
            }
            Properties next = new Properties();
            try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                next.load(in);
            }
            users = next;
            modifiedAt = modified;
        } catch (IOException e) {
            if (modifiedAt == Long.MIN_VALUE) {
                throw new io.capstan.broker.config.ConfigException("cannot read sasl.plain.credentials.file " + file + ": " + e.getMessage());
            }
            log.warn("cannot re-read {} ({}); keeping the users read before", file, e.toString());
        }
    }
}
