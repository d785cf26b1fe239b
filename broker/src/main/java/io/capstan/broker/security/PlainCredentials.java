package io.capstan.broker.security;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.List;
import java.util.Properties;
import io.capstan.config.ConfigException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * SASL PLAIN users from a properties file of {@code user=password} lines, re-read when its content changes (checked
 * at most once a second). Meant for tests and simple setups: the file holds passwords in the clear, which is why SCRAM
 * is the default mechanism.
 */
public final class PlainCredentials {
    private static final Logger log = LoggerFactory.getLogger(PlainCredentials.class);

    private final ReloadingFiles<Properties> users;

    public PlainCredentials(Path file) {
        this.users = new ReloadingFiles<>("sasl.plain.credentials.file", List.of(file), () -> load(file), System::currentTimeMillis, 1_000);
        if (users.current().isEmpty()) {
            log.warn("sasl.plain.credentials.file {} holds no users; every PLAIN login will fail", file);
        }
    }

    /** Whether the password is the user's, compared in constant time so timing does not reveal a prefix. */
    public boolean check(String user, char[] password) {
        String expected = users.current().getProperty(user);
        byte[] given = new String(password).getBytes(StandardCharsets.UTF_8);
        byte[] wanted = (expected == null ? "\u0000no such user" : expected).getBytes(StandardCharsets.UTF_8);
        return MessageDigest.isEqual(given, wanted) && expected != null;
    }

    private static Properties load(Path file) {
        Properties users = new Properties();
        try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            users.load(in);
        } catch (IOException e) {
            throw new ConfigException("cannot read sasl.plain.credentials.file " + file + ": " + e.getMessage());
        }
        return users;
    }
}
