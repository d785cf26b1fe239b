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
        p.putAll(extra);
        return p;
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
