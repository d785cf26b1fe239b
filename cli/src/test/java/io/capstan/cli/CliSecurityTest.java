package io.capstan.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.broker.Broker;
import io.capstan.config.BrokerConfig;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A secured broker set up and used only through the CLI, as docs/security.md tells a user to: certificates from
 * `capstan certs`, the first administrator created offline, then users and ACLs over SASL_SSL, and a client
 * certificate on an mTLS listener.
 */
class CliSecurityTest {
    @TempDir
    Path dir;
    Broker broker;
    final InputStream stdin = System.in;
    final PrintStream stdout = System.out;

    @AfterEach
    void stop() {
        System.setIn(stdin);
        System.setOut(stdout);
        if (broker != null) {
            broker.close();
        }
    }

    private record Run(int exit, String out, String err) {}

    private Run run(String input, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setIn(new ByteArrayInputStream(input.getBytes(StandardCharsets.UTF_8)));
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            java.io.StringWriter err = new java.io.StringWriter();
            int exit = Capstan.commandLine().setErr(new java.io.PrintWriter(err, true)).execute(args);
            return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString());
        } finally {
            System.setIn(stdin);
            System.setOut(stdout);
        }
    }

    private String[] as(String user, String... args) throws Exception {
        Path password = dir.resolve(user + ".password");
        Files.writeString(password, user + "-secret\n");
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("-b", "127.0.0.1:" + broker.port("SASL_SSL"), "--user", user, "--password-file", password.toString(),
                "--ca-file", dir.resolve("certs/ca.pem").toString()));
        return all.toArray(String[]::new);
    }

    @Test
    void aSecuredBrokerIsRunThroughTheCliAlone() throws Exception {
        Run certs = run("", "certs", "--dir", dir.resolve("certs").toString(), "--client", "alice");
        assertThat(certs.exit()).as(certs.err()).isZero();
        assertThat(certs.out()).contains("ssl.keystore.location=");
        Path data = dir.resolve("data");
        Run bootstrap = run("", "user", "create", "admin", "--new-password", "admin-secret", "--data-dir", data.toString());
        assertThat(bootstrap.exit()).as(bootstrap.err()).isZero();

        Map<String, String> s = new HashMap<>();
        s.put("data.dir", data.toString());
        s.put("admin.port", "-1");
        s.put("disk.min.free.bytes", "0");
        s.put("listeners", "SASL_SSL://127.0.0.1:0,SSL://127.0.0.1:0");
        s.put("ssl.keystore.type", "PEM");
        s.put("ssl.keystore.location", dir.resolve("certs/broker.pem").toString());
        s.put("ssl.truststore.type", "PEM");
        s.put("ssl.truststore.location", dir.resolve("certs/ca.pem").toString());
        s.put("listener.name.ssl.ssl.client.auth", "required");
        s.put("authorizer.class.name", "capstan");
        s.put("super.users", "User:admin");
        broker = new Broker(BrokerConfig.from(s), s);

        assertThat(run("", as("admin", "user", "create", "bob", "--new-password", "bob-secret")).exit()).isZero();
        assertThat(run("", as("admin", "user", "list")).out()).contains("admin\tSCRAM-SHA-512(8192)").contains("bob\tSCRAM-SHA-512(8192)");
        assertThat(run("", as("admin", "topic", "create", "orders")).exit()).isZero();
        assertThat(run("", as("admin", "acl", "create", "--principal", "User:bob", "--operation", "Write", "--operation", "Describe",
                "--topic", "orders")).exit()).isZero();
        assertThat(run("", as("admin", "acl", "list", "--topic", "orders")).out().lines().toList())
                .containsExactly("ALLOW User:bob DESCRIBE on TOPIC orders from *", "ALLOW User:bob WRITE on TOPIC orders from *");

        assertThat(run("k:v\n", as("bob", "produce", "-t", "orders", "-K:")).exit()).isZero();
        Run denied = run("", as("bob", "consume", "-t", "orders", "--from", "beginning", "-n", "1"));
        assertThat(denied.exit()).isNotZero();
        assertThat(denied.err()).contains("Not authorized to access topics: [orders]").contains("capstan acl create");
        Run wrongPassword = run("", "topic", "list", "-b", "127.0.0.1:" + broker.port("SASL_SSL"), "--user", "bob",
                "--password", "nope", "--ca-file", dir.resolve("certs/ca.pem").toString());
        assertThat(wrongPassword.exit()).isNotZero();
        assertThat(wrongPassword.err()).contains("Authentication failed").contains("check --user");

        // alice authenticates by certificate on the mTLS listener; her principal is the certificate's subject
        String[] alice = {"-b", "127.0.0.1:" + broker.port("SSL"), "--ca-file", dir.resolve("certs/ca.pem").toString(),
                "--keystore", dir.resolve("certs/alice.pem").toString()};
        assertThat(run("", concat(new String[] {"topic", "list"}, alice)).out()).doesNotContain("orders");
        assertThat(run("", as("admin", "acl", "create", "--principal", "User:CN=alice", "--operation", "Describe", "--topic", "orders")).exit()).isZero();
        assertThat(run("", concat(new String[] {"topic", "list"}, alice)).out()).contains("orders");

        assertThat(run("", as("admin", "acl", "delete", "--principal", "User:bob")).out()).contains("deleted ALLOW User:bob WRITE");
        assertThat(run("k:v\n", as("bob", "produce", "-t", "orders", "-K:")).exit()).isNotZero();
        assertThat(broker.logs().catalog().shard(new org.apache.kafka.common.TopicPartition("orders", 0)).logEnd()).isEqualTo(1);
    }

    private static String[] concat(String[] a, String[] b) {
        String[] all = new String[a.length + b.length];
        System.arraycopy(a, 0, all, 0, a.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }
}
