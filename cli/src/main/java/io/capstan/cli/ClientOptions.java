package io.capstan.cli;

import java.util.Properties;
import picocli.CommandLine.Option;

/** Options every client command shares. */
final class ClientOptions {
    @Option(names = {"-b", "--bootstrap-server"}, defaultValue = "${env:CAPSTAN_BOOTSTRAP:-127.0.0.1:9092}",
            description = "Broker address (env CAPSTAN_BOOTSTRAP; default ${DEFAULT-VALUE}).")
    String bootstrap;

    @Option(names = "--client-property", description = "Extra Kafka client property key=value (repeatable).")
    java.util.Map<String, String> extra = new java.util.LinkedHashMap<>();

    Properties props() {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("client.id", "capstan-cli");
        p.putAll(extra);
        return p;
    }
}
