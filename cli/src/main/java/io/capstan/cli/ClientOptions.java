package io.capstan.cli;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Properties;
import picocli.CommandLine.Option;

/**
 * Options every client command shares: where the brokers are and how to authenticate, with Kafka's tools' spelling
 * ({@code --command-config} takes the same properties file as kafka-topics and friends). Precedence: the command
 * config file, then the security flags, then {@code --client-property}.
 */
final class ClientOptions {
    @Option(names = {"-b", "--bootstrap-server"}, defaultValue = "${env:CAPSTAN_BOOTSTRAP:-127.0.0.1:9092}",
            description = "Broker address (env CAPSTAN_BOOTSTRAP; default ${DEFAULT-VALUE}).")
    String bootstrap;

    @Option(names = "--command-config", description = "Kafka client properties file (security.protocol, sasl.*, ssl.*), as Kafka's tools take.")
    Path commandConfig;

    @Option(names = "--security-protocol", description = "PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL.")
    String securityProtocol;

    @Option(names = "--sasl-mechanism", description = "SCRAM-SHA-512 (default with --user), SCRAM-SHA-256 or PLAIN.")
    String saslMechanism;

    @Option(names = "--user", description = "SASL user name.")
    String user;

    @Option(names = "--password", description = "SASL password (prefer --password-file or env CAPSTAN_PASSWORD: a flag shows in ps).",
            defaultValue = "${env:CAPSTAN_PASSWORD}")
    String password;

    @Option(names = "--password-file", description = "File whose first line is the SASL password.")
    Path passwordFile;

    @Option(names = "--ca-file", description = "PEM file of the CA certificates that sign the brokers' certificates.")
    Path caFile;

    @Option(names = "--keystore", description = "Client certificate and key for mTLS: a PKCS12 file, or PEM (key and chain) when it ends in .pem.")
    Path keystore;

    @Option(names = "--keystore-password", description = "Password of the PKCS12 key store.", defaultValue = "${env:CAPSTAN_KEYSTORE_PASSWORD}")
    String keystorePassword;

    @Option(names = "--client-property", description = "Extra Kafka client property key=value (repeatable).")
    java.util.Map<String, String> extra = new java.util.LinkedHashMap<>();

    @Option(names = "--timeout", defaultValue = "10s", converter = TimeoutConverter.class,
            description = "Give up when the brokers have not answered for this long, e.g. 10s, 500ms, 1m (default ${DEFAULT-VALUE}).")
    java.time.Duration timeout = java.time.Duration.ofSeconds(10);

    @Option(names = "--verbose", description = "Also print the Kafka client's own log lines (hidden otherwise).")
    boolean verbose;

    /** --timeout's values: a number and a unit (ms, s, m). */
    static final class TimeoutConverter implements picocli.CommandLine.ITypeConverter<java.time.Duration> {
        @Override
        public java.time.Duration convert(String value) {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("([0-9]+)(ms|s|m)").matcher(value.trim());
            if (!m.matches() || Long.parseLong(m.group(1)) == 0) {
                throw new picocli.CommandLine.TypeConversionException("'" + value + "' is not a timeout: give a positive number with ms, s or m, e.g. 10s");
            }
            long n = Long.parseLong(m.group(1));
            return switch (m.group(2)) {
                case "ms" -> java.time.Duration.ofMillis(n);
                case "s" -> java.time.Duration.ofSeconds(n);
                default -> java.time.Duration.ofMinutes(n);
            };
        }
    }

    /** One line naming what went wrong and what to do next (see {@link Errors}). */
    String explain(Throwable e) {
        return Errors.describe(e, bootstrap, timeout);
    }

    Properties props() {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("client.id", "capstan-cli");
        if (commandConfig != null) {
            try (Reader in = Files.newBufferedReader(commandConfig, StandardCharsets.UTF_8)) {
                p.load(in);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read --command-config " + commandConfig + ": " + e.getMessage(), e);
            }
            p.put("bootstrap.servers", bootstrap);
        }
        security(p);
        bound(p);
        p.putAll(extra);
        return p;
    }

    /**
     * Every wait for an answer bounded by --timeout: admin calls and consumer lookups (default.api.timeout.ms), a single
     * request, a producer waiting for metadata or buffer space (max.block.ms). Without it a wrong address or a missing
     * topic retried for a minute or more, logging a warning every second. A record's delivery, retries included, keeps
     * Kafka's 120 s (or --timeout if longer), so a produce run rides out a leader's failover as Kafka's tools do.
     */
    private void bound(Properties p) {
        long ms = Math.max(1, timeout.toMillis());
        p.put("default.api.timeout.ms", String.valueOf(ms));
        p.put("request.timeout.ms", String.valueOf(ms));
        p.put("max.block.ms", String.valueOf(ms));
        p.put("delivery.timeout.ms", String.valueOf(Math.max(120_000, ms + 100)));
        p.put("socket.connection.setup.timeout.max.ms", String.valueOf(Math.min(ms, 30_000)));
        p.put("socket.connection.setup.timeout.ms", String.valueOf(Math.min(ms, 10_000)));
    }

    private void security(Properties p) {
        String protocol = securityProtocol;
        if (protocol == null && (user != null || caFile != null || keystore != null) && !p.containsKey("security.protocol")) {
            // credentials or a CA imply the protocol, so `--user alice --ca-file ca.pem` is enough
            protocol = user != null ? (caFile != null ? "SASL_SSL" : "SASL_PLAINTEXT") : "SSL";
        }
        if (protocol != null) {
            p.put("security.protocol", protocol.toUpperCase(Locale.ROOT));
        }
        if (user != null) {
            String mechanism = saslMechanism == null ? "SCRAM-SHA-512" : saslMechanism.toUpperCase(Locale.ROOT);
            String secret = password();
            String module = mechanism.equals("PLAIN") ? "org.apache.kafka.common.security.plain.PlainLoginModule"
                    : "org.apache.kafka.common.security.scram.ScramLoginModule";
            p.put("sasl.mechanism", mechanism);
            p.put("sasl.jaas.config", module + " required username=\"" + jaas(user) + "\" password=\"" + jaas(secret) + "\";");
        } else if (saslMechanism != null) {
            p.put("sasl.mechanism", saslMechanism.toUpperCase(Locale.ROOT));
        }
        if (caFile != null) {
            p.put("ssl.truststore.type", "PEM");
            p.put("ssl.truststore.location", caFile.toString());
        }
        if (keystore != null) {
            boolean pem = keystore.toString().endsWith(".pem");
            p.put("ssl.keystore.type", pem ? "PEM" : "PKCS12");
            p.put("ssl.keystore.location", keystore.toString());
            if (!pem && keystorePassword != null) {
                p.put("ssl.keystore.password", keystorePassword);
            }
        }
    }

    private String password() {
        if (passwordFile != null) {
            try {
                return Files.readAllLines(passwordFile, StandardCharsets.UTF_8).stream().findFirst().orElse("");
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read --password-file " + passwordFile + ": " + e.getMessage(), e);
            }
        }
        if (password == null) {
            throw new IllegalArgumentException("--user " + user + " needs a password: --password-file, env CAPSTAN_PASSWORD or --password");
        }
        return password;
    }

    private static String jaas(String value) {
        return value.replace("\\", "\\\\").replace("\"", "\\\"");
    }
}
