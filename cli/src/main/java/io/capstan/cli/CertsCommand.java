package io.capstan.cli;

import io.capstan.certs.CertificateAuthority;
import io.capstan.certs.IssuedCertificate;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * A private CA and certificates for a local broker or cluster: the broker's (for each host name and address clients
 * use) and, for mTLS, clients'. All PEM, which Kafka's clients and brokers read directly.
 */
@Command(name = "certs", mixinStandardHelpOptions = true,
        description = "Make a CA, a broker certificate and client certificates (PEM) for TLS and mTLS.")
final class CertsCommand implements Callable<Integer> {
    @Option(names = "--dir", defaultValue = "./tls", description = "Where to write them (default ${DEFAULT-VALUE}).") Path dir;
    @Option(names = "--host", description = "A host name or IP address clients connect to (repeatable; default 127.0.0.1 and localhost).") List<String> hosts;
    @Option(names = "--client", description = "Also make a client certificate with CN=<name> (repeatable).") List<String> clients = new ArrayList<>();
    @Option(names = "--days", defaultValue = "365", description = "Validity in days (default ${DEFAULT-VALUE}).") int days;

    @Override
    public Integer call() throws Exception {
        List<String> names = hosts == null || hosts.isEmpty() ? List.of("127.0.0.1", "localhost") : hosts;
        Duration validity = Duration.ofDays(days);
        Files.createDirectories(dir);
        CertificateAuthority ca = CertificateAuthority.create("capstan-ca", validity);
        CertificateAuthority.Request broker = CertificateAuthority.Request.of("CN=capstan-broker", validity);
        for (String name : names) {
            broker = name.matches("[0-9.]+|.*:.*") ? broker.withIps(name) : broker.withDns(name);
        }
        IssuedCertificate brokerCert = ca.issue(broker);
        brokerCert.writeCaPem(dir.resolve("ca.pem"));
        brokerCert.writeKeyAndChainPem(dir.resolve("broker.pem"));
        for (String client : clients) {
            ca.issue(CertificateAuthority.Request.of("CN=" + client, validity)).writeKeyAndChainPem(dir.resolve(client + ".pem"));
        }
        Path abs = dir.toAbsolutePath();
        System.out.println("wrote " + abs.resolve("ca.pem") + " and " + abs.resolve("broker.pem") + " (for " + String.join(", ", names) + ")"
                + (clients.isEmpty() ? "" : " and client certificates " + String.join(", ", clients.stream().map(c -> c + ".pem").toList())));
        System.out.println("broker settings:");
        System.out.println("  ssl.keystore.type=PEM");
        System.out.println("  ssl.keystore.location=" + abs.resolve("broker.pem"));
        System.out.println("  ssl.truststore.type=PEM");
        System.out.println("  ssl.truststore.location=" + abs.resolve("ca.pem"));
        System.out.println("clients: --ca-file " + abs.resolve("ca.pem") + (clients.isEmpty() ? "" : " --keystore " + abs.resolve(clients.get(0) + ".pem")));
        return 0;
    }
}
