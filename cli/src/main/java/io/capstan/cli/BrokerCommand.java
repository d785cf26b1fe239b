package io.capstan.cli;

import io.capstan.broker.Broker;
import io.capstan.config.BrokerConfig;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Runs a broker in the foreground until SIGTERM or Ctrl-C. */
@Command(name = "broker", mixinStandardHelpOptions = true,
        description = "Run a broker. Settings: defaults < --config file < CAPSTAN_* env < flags. See docs/configuration.md.")
final class BrokerCommand implements Callable<Integer> {
    @Option(names = {"-c", "--config"}, description = "Properties file with broker settings.")
    Path configFile;

    @Option(names = {"-s", "--set"}, description = "A setting key=value (repeatable), e.g. --set log.flush.policy=interval.")
    Map<String, String> set = new LinkedHashMap<>();

    @Option(names = "--data-dir", description = "Shortcut for --set data.dir=...")
    String dataDir;

    @Option(names = "--port", description = "Shortcut for --set listener.port=...")
    String port;

    @Option(names = "--admin-port", description = "Shortcut for --set admin.port=...")
    String adminPort;

    @Option(names = "--node-id", description = "Shortcut for --set node.id=...")
    String nodeId;

    @Option(names = "--print-config", description = "Print every setting with its default and meaning (a Markdown table), then exit.")
    boolean printConfig;

    @Override
    public Integer call() throws InterruptedException {
        if (printConfig) {
            System.out.print(ConfigReference.markdownTable());
            return 0;
        }
        Map<String, String> flags = new LinkedHashMap<>(set);
        putIf(flags, "data.dir", dataDir);
        putIf(flags, "listener.port", port);
        putIf(flags, "admin.port", adminPort);
        putIf(flags, "node.id", nodeId);
        Map<String, String> settings = BrokerSettings.resolve(configFile, System.getenv(), flags);
        BrokerConfig config = BrokerConfig.from(settings);
        Broker broker = new Broker(config, settings);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            broker.close();
            stopped.countDown();
        }, "capstan-shutdown"));
        System.out.println("capstan broker listening on " + broker.bootstrap() + " (admin http://" + config.host() + ":"
                + broker.adminPort() + "/metrics); Ctrl-C to stop");
        stopped.await();
        return 0;
    }

    private static void putIf(Map<String, String> flags, String key, String value) {
        if (value != null) {
            flags.put(key, value);
        }
    }
}
