package io.capstan.cli;

import io.capstan.console.ConsoleServer;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.clients.admin.Admin;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code capstan console}: the web console against any Kafka-compatible bootstrap address. */
@Command(name = "console", mixinStandardHelpOptions = true,
        description = "Serve a web console of a cluster: brokers, topics with partitions and sizes, consumer groups with lag,"
                + " and charts of produce rate and lag. Read-only unless --allow-actions.")
final class ConsoleCommand implements Callable<Integer> {
    @Mixin ClientOptions client;

    @Option(names = "--listen", defaultValue = "127.0.0.1", description = "Address the console listens on (default ${DEFAULT-VALUE}: this machine only).")
    String listen;

    @Option(names = "--port", defaultValue = "8080", description = "Port of the console (default ${DEFAULT-VALUE}; 0 picks a free one).")
    int port;

    @Option(names = "--allow-actions", description = "Allow deleting consumer groups and resetting their offsets from the page"
            + " (the brokers' ACLs still apply to the console's user).")
    boolean allowActions;

    @Option(names = "--sample-interval", defaultValue = "5s", converter = ClientOptions.TimeoutConverter.class,
            description = "How often the charts get a new point (default ${DEFAULT-VALUE}; they keep the last 120).")
    java.time.Duration sampleInterval;

    @Override
    public Integer call() throws Exception {
        CountDownLatch stopped = new CountDownLatch(1);
        try (Admin admin = Admin.create(client.props());
             ConsoleServer server = new ConsoleServer(admin, client.timeout.toMillis(), listen, port, allowActions, sampleInterval.toMillis())) {
            // the page only shows what the brokers answer: check that they do before saying it is up
            new io.capstan.console.ClusterReader(admin, client.timeout.toMillis()).read();
            Runtime.getRuntime().addShutdownHook(new Thread(stopped::countDown));
            System.out.printf("console of %s on http://%s:%d/ (%s); Ctrl-C stops it%n", client.bootstrap, listen, server.port(),
                    allowActions ? "actions allowed" : "read-only");
            stopped.await();
        }
        return 0;
    }
}
