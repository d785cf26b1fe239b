package io.capstan.operator;

import com.sun.net.httpserver.HttpServer;
import io.capstan.operator.reconcile.BrokerClusterReconciler;
import io.capstan.operator.reconcile.ResourceWriter;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.javaoperatorsdk.operator.Operator;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Set;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operator process: one active replica at a time (a Lease in its own namespace), watching all namespaces or those
 * listed in WATCH_NAMESPACES (RBAC_SCOPE=namespaced: it holds Roles there only), with /healthz, /readyz and /metrics
 * (Prometheus) on HEALTH_PORT (default 8081).
 */
public final class OperatorMain {
    private static final Logger log = LoggerFactory.getLogger(OperatorMain.class);  // JUL underneath: configured first thing in main

    private OperatorMain() {}

    public static void main(String[] args) throws IOException {
        io.capstan.cluster.FreshAddresses.install();
        io.capstan.operator.logging.LogSetup.configure(System.getenv("LOG_FORMAT"), System.getenv("LOG_LEVEL"));
        KubernetesClient client = io.capstan.operator.reconcile.ApiCalls.counting(new KubernetesClientBuilder()).build();
        String leaseNamespace = System.getenv().getOrDefault("POD_NAMESPACE", "capstan-system");
        Set<String> namespaces = Arrays.stream(System.getenv().getOrDefault("WATCH_NAMESPACES", "").split(","))
                .map(String::trim).filter(s -> !s.isEmpty()).collect(Collectors.toSet());
        Operator operator = new Operator(o -> o.withKubernetesClient(client)
                .withLeaderElectionConfiguration(new LeaderElectionConfiguration("capstan-operator", leaseNamespace)));
        io.capstan.operator.reconcile.OperatorMetrics metrics = new io.capstan.operator.reconcile.OperatorMetrics(
                io.prometheus.metrics.model.registry.PrometheusRegistry.defaultRegistry);
        io.prometheus.metrics.instrumentation.jvm.JvmMetrics.builder().register();
        Duration trustPropagation = io.capstan.operator.spec.Durations.parse(System.getenv().getOrDefault("CERT_TRUST_PROPAGATION", "3m"));
        operator.register(new BrokerClusterReconciler(client, ResourceWriter.serverSideApply(client),
                io.capstan.operator.rollout.RestartSafetyProbe.http(), metrics)
                .withImagePolicy(io.capstan.operator.spec.ImagePolicy.parse(System.getenv("ALLOWED_IMAGE_REGISTRIES")))
                .withNodeReaderBindings(!"namespaced".equals(System.getenv("RBAC_SCOPE")))
                .withTrustPropagation(trustPropagation)
                // the OpenTelemetry variable's name, so a collector set up for other operators is found the same way
                .withTracing(io.capstan.operator.reconcile.PassTracer.otlp(System.getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))), config -> {
            if (!namespaces.isEmpty()) {
                config.settingNamespaces(namespaces);
            }
        });
        operator.register(new io.capstan.operator.users.CapstanUserReconciler(client, ResourceWriter.serverSideApply(client),
                io.capstan.operator.users.ClusterAdmins.overReplicationListener(), trustPropagation), config -> {
            if (!namespaces.isEmpty()) {
                config.settingNamespaces(namespaces);
            }
        });
        operator.register(new io.capstan.operator.topics.CapstanTopicReconciler(client,
                io.capstan.operator.topics.CapstanTopicReconciler.Admins.inCluster(client, ResourceWriter.serverSideApply(client)))
                .withResync(io.capstan.operator.spec.Durations.parse(System.getenv().getOrDefault("TOPIC_RESYNC_INTERVAL", "60s"))), config -> {
            if (!namespaces.isEmpty()) {
                config.settingNamespaces(namespaces);
            }
        });
        operator.register(new io.capstan.operator.rebalance.CapstanRebalanceReconciler(client,
                io.capstan.operator.topics.CapstanTopicReconciler.Admins.inCluster(client, ResourceWriter.serverSideApply(client)),
                io.capstan.operator.rebalance.TrafficSource.fromPods(client), System::nanoTime), config -> {
            if (!namespaces.isEmpty()) {
                config.settingNamespaces(namespaces);
            }
        });
        operator.installShutdownHook(Duration.ofSeconds(10));
        HttpServer health = HttpServer.create(new InetSocketAddress(Integer.parseInt(System.getenv().getOrDefault("HEALTH_PORT", "8081"))), 8);
        health.createContext("/healthz", ex -> reply(ex, 200, "ok\n"));
        health.createContext("/readyz", ex -> reply(ex, 200, "ready\n"));
        health.createContext("/metrics", new io.prometheus.metrics.exporter.httpserver.MetricsHandler(metrics.registry()));
        health.start();
        String consolePort = System.getenv().getOrDefault("CONSOLE_PORT", "");
        if (!consolePort.isBlank()) {
            io.capstan.operator.topics.CapstanTopicReconciler.Admins admins =
                    io.capstan.operator.topics.CapstanTopicReconciler.Admins.inCluster(client, ResourceWriter.serverSideApply(client));
            new io.capstan.operator.console.OperatorConsole(client, admins::open, namespaces, Integer.parseInt(consolePort));
        }
        operator.start();
        log.info("capstan operator started (namespaces: {}, leader election lease capstan-operator in {})",
                namespaces.isEmpty() ? "all" : namespaces, leaseNamespace);
    }

    private static void reply(com.sun.net.httpserver.HttpExchange ex, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }
}
