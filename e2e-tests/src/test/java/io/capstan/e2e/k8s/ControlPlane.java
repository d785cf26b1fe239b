package io.capstan.e2e.k8s;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;

/**
 * A real Kubernetes control plane on 127.0.0.1: etcd and kube-apiserver built from the Go modules
 * (e2e-tests/k8s/build-control-plane.sh), client-certificate authentication with a CA made here by openssl, RBAC on.
 * Processes are started per test class and killed afterwards; their logs stay in the work directory.
 */
public final class ControlPlane implements AutoCloseable {
    /**
     * The JUnit tag of every suite that starts one: the e2e-tests build runs them after the others, once the binaries
     * are built (its pom), so that CI can build them meanwhile.
     */
    public static final String TAG = "control-plane";
    public static final String VERSION = "v1.37.2";
    public static final Path BIN = Path.of("..", ".cache", "k8s", VERSION, "bin").toAbsolutePath().normalize();

    private final Path work;
    private final List<Process> processes = new ArrayList<>();
    private int apiPort;
    private int etcdPort;

    private ControlPlane(Path work) {
        this.work = work;
    }

    /** True when the binaries have been built on this machine. */
    public static boolean available() {
        return Files.isExecutable(BIN.resolve("kube-apiserver")) && Files.isExecutable(BIN.resolve("etcd"));
    }

    /** True when the controller manager and scheduler have been built too. */
    public static boolean schedulingAvailable() {
        return available() && Files.isExecutable(BIN.resolve("kube-controller-manager")) && Files.isExecutable(BIN.resolve("kube-scheduler"));
    }

    /**
     * Adds the controller manager (StatefulSets, PersistentVolume binding, garbage collection; node lifecycle off, as
     * no kubelet heartbeats) and the scheduler, both as the admin.
     */
    public void startScheduling() throws IOException {
        Path kubeconfig = writeKubeconfig();
        start("kube-controller-manager", List.of(BIN.resolve("kube-controller-manager").toString(), "--kubeconfig", kubeconfig.toString(),
                "--bind-address", "127.0.0.1", "--secure-port", String.valueOf(freePort()), "--leader-elect=false",
                "--service-account-private-key-file", file("sa.key"), "--root-ca-file", file("ca.crt"),
                "--controllers", "*,-node-lifecycle-controller,-taint-eviction-controller,-node-ipam-controller,-device-taint-eviction-controller"));
        start("kube-scheduler", List.of(BIN.resolve("kube-scheduler").toString(), "--kubeconfig", kubeconfig.toString(),
                "--bind-address", "127.0.0.1", "--secure-port", String.valueOf(freePort()), "--leader-elect=false"));
    }

    /** A kubeconfig for the admin (system:masters), as kubectl or Helm would use it. */
    public Path adminKubeconfig() throws IOException {
        return writeKubeconfig();
    }

    /** An address the API server's certificate also names, for a relay on a test's own network to listen on. */
    public static final String LAB_ADDRESS = "10.213.255.1";

    /** The admin's kubeconfig for reaching the API server at {@code url} (a relay) instead of on 127.0.0.1. */
    public Path adminKubeconfigAt(String url, String fileName) throws IOException {
        return Kubeconfig.write(work.resolve(fileName), url, caCertificate(), "admin",
                "{client-certificate: \"%s\", client-key: \"%s\"}".formatted(file("admin.crt"), file("admin.key")), "default");
    }

    public int apiPort() {
        return apiPort;
    }

    public String apiServerUrl() {
        return "https://127.0.0.1:" + apiPort;
    }

    public Path caCertificate() {
        return work.resolve("ca.crt");
    }

    private Path writeKubeconfig() throws IOException {
        return Kubeconfig.write(work.resolve("admin.kubeconfig"), apiServerUrl(), caCertificate(), "admin",
                "{client-certificate: \"%s\", client-key: \"%s\"}".formatted(file("admin.crt"), file("admin.key")), "default");
    }

    /** Aborts the test class locally, or fails it where CAPSTAN_REQUIRE_K8S=1 (CI), when the binaries are missing. */
    public static void assumeBuilt(boolean scheduling) {
        if (scheduling ? schedulingAvailable() : available()) {
            return;
        }
        String why = "control plane binaries missing in " + BIN + "; build them with e2e-tests/k8s/build-control-plane.sh (the e2e build runs it before these suites: ./mvnw verify)";
        if ("1".equals(System.getenv("CAPSTAN_REQUIRE_K8S"))) {
            throw new IllegalStateException(why);
        }
        org.junit.jupiter.api.Assumptions.abort(why);
    }

    /** Installs the BrokerCluster, CapstanTopic, CapstanUser and MetadataEntry CRDs from crds/ and waits until the API server serves it, then creates {@code namespace}. */
    public static void installCrd(KubernetesClient client, String namespace) throws IOException {
        for (String crd : new String[] {"brokerclusters.capstan.io", "capstanrebalances.capstan.io", "capstantopics.capstan.io", "capstanusers.capstan.io", "metadataentries.capstan.io"}) {
            client.resource(io.fabric8.kubernetes.client.utils.Serialization.unmarshal(
                    Files.readString(Path.of("..", "crds", crd + "-v1.yml")),
                    io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition.class)).create();
            // a CRD just created has no status, then a status without conditions, before it is Established
            Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> {
                var created = client.apiextensions().v1().customResourceDefinitions().withName(crd).get();
                return created != null && created.getStatus() != null && created.getStatus().getConditions() != null
                        && created.getStatus().getConditions().stream()
                                .anyMatch(c -> "Established".equals(c.getType()) && "True".equals(c.getStatus()));
            });
        }
        client.namespaces().resource(new io.fabric8.kubernetes.api.model.NamespaceBuilder().withNewMetadata().withName(namespace)
                .endMetadata().build()).create();
    }

    public static ControlPlane start(Path work) throws Exception {
        ControlPlane cp = new ControlPlane(work);
        cp.boot();
        return cp;
    }

    private void boot() throws Exception {
        Files.createDirectories(work);
        certificates();
        // A port picked free can be taken before the process binds it (another test's client connection, or the same
        // port picked twice): such a start is retried on new ports; any other exit fails at once with the log's end.
        Process etcd = startOnFreePorts("etcd", 3, this::etcdCommand, this::etcdHealthy);
        processes.add(etcd);
        Process apiServer = startOnFreePorts("kube-apiserver", 3, this::apiServerCommand, this::apiServerReady);
        processes.add(apiServer);
    }

    private List<String> etcdCommand() throws IOException {
        deleteRecursively(work.resolve("etcd")); // an attempt that failed may have begun a member on other ports
        etcdPort = freePort();
        int peer = freePort();
        return List.of(BIN.resolve("etcd").toString(), "--name", "default", "--data-dir", work.resolve("etcd").toString(),
                "--listen-client-urls", "http://127.0.0.1:" + etcdPort, "--advertise-client-urls", "http://127.0.0.1:" + etcdPort,
                "--listen-peer-urls", "http://127.0.0.1:" + peer, "--initial-advertise-peer-urls", "http://127.0.0.1:" + peer,
                "--initial-cluster", "default=http://127.0.0.1:" + peer, "--unsafe-no-fsync");
    }

    private boolean etcdHealthy() throws Exception {
        return java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create("http://127.0.0.1:" + etcdPort + "/health")).timeout(Duration.ofSeconds(2)).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString()).body().contains("\"health\":\"true\"");
    }

    private List<String> apiServerCommand() throws IOException {
        apiPort = freePort();
        return List.of(BIN.resolve("kube-apiserver").toString(),
                "--etcd-servers", "http://127.0.0.1:" + etcdPort,
                // ConfigMaps (the brokers' metadata store) are watched from etcd itself, not the API server's watch
                // cache, so that compacting etcd expires a watch's history as it would after a long disconnection
                "--watch-cache-sizes", "configmaps#0",
                "--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1", "--secure-port", String.valueOf(apiPort),
                "--cert-dir", work.resolve("apiserver-certs").toString(),
                "--tls-cert-file", file("apiserver.crt"), "--tls-private-key-file", file("apiserver.key"),
                "--client-ca-file", file("ca.crt"),
                "--service-account-issuer", "https://kubernetes.default.svc", "--service-account-key-file", file("sa.pub"),
                "--service-account-signing-key-file", file("sa.key"), "--service-cluster-ip-range", "10.0.0.0/24",
                "--authorization-mode", "RBAC", "--disable-admission-plugins", "ServiceAccount", "--allow-privileged=true",
                "--endpoint-reconciler-type", "none");
    }

    private boolean apiServerReady() {
        try (KubernetesClient client = adminClient()) {
            return "ok".equals(client.raw("/readyz"));
        }
    }

    /** Starts {@code command} (which picks its ports) until {@code ready}, again on new ports after a lost port race. */
    private Process startOnFreePorts(String name, int attempts, java.util.concurrent.Callable<List<String>> command,
                                     java.util.concurrent.Callable<Boolean> ready) throws Exception {
        Path log = work.resolve(name + ".log");
        for (int attempt = 1; ; attempt++) {
            long logStart = Files.exists(log) ? Files.size(log) : 0;
            Process process = new ProcessBuilder(command.call()).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
            try {
                Awaitility.await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(250)).ignoreExceptions()
                        .failFast(() -> !process.isAlive())
                        .until(ready);
                return process;
            } catch (org.awaitility.core.ConditionTimeoutException | org.awaitility.core.TerminalFailureException e) {
                process.destroyForcibly().waitFor();
                String output = Files.readString(log).substring((int) logStart);
                if (attempt < attempts && output.contains("address already in use")) {
                    System.out.printf("%s could not bind a port picked free (attempt %d); starting it again on new ports%n", name, attempt);
                    continue;
                }
                throw new IllegalStateException("the " + name + " " + (e instanceof org.awaitility.core.TerminalFailureException
                        ? "exited" : "was not ready within 120 s") + "; the end of " + log + ":\n" + lastLines(output, 15), e);
            }
        }
    }

    private static void deleteRecursively(Path dir) throws IOException {
        if (Files.exists(dir)) {
            try (var paths = Files.walk(dir)) {
                for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
    }

    private static String lastLines(String text, int count) {
        List<String> lines = text.lines().toList();
        return String.join("\n", lines.subList(Math.max(0, lines.size() - count), lines.size()));
    }

    private String file(String name) {
        return work.resolve(name).toString();
    }

    /** A CA, the API server's serving certificate, an admin client certificate (system:masters) and a service-account key. */
    private void certificates() throws Exception {
        // LAB_ADDRESS: where a test's own network (NetworkLab) reaches the API server through a relay
        Files.writeString(work.resolve("san.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost,IP:10.0.0.1,DNS:kubernetes.default.svc,IP:"
                + LAB_ADDRESS + "\n");
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=capstan-e2e-ca");
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "apiserver.key", "-out", "apiserver.csr", "-subj", "/CN=kube-apiserver");
        openssl("x509", "-req", "-in", "apiserver.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "apiserver.crt",
                "-days", "2", "-extfile", "san.ext");
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "admin.key", "-out", "admin.csr", "-subj", "/O=system:masters/CN=capstan-admin");
        openssl("x509", "-req", "-in", "admin.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "admin.crt", "-days", "2");
        openssl("genrsa", "-out", "sa.key", "2048");
        openssl("rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub");
    }

    private void openssl(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("openssl"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).directory(work.toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(work.resolve("openssl.log").toFile())).start();
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("openssl " + String.join(" ", args) + " failed; see " + work.resolve("openssl.log"));
        }
    }

    private void start(String name, List<String> cmd) throws IOException {
        processes.add(new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(work.resolve(name + ".log").toFile())).start());
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    public Config adminConfig() {
        return new ConfigBuilder().withMasterUrl("https://127.0.0.1:" + apiPort).withCaCertFile(file("ca.crt"))
                .withClientCertFile(file("admin.crt")).withClientKeyFile(file("admin.key")).withNamespace("default").build();
    }

    public KubernetesClient adminClient() {
        return new KubernetesClientBuilder().withConfig(adminConfig()).build();
    }

    public Path work() { return work; }

    /** etcd's own Prometheus metrics (database size and the like). */
    public String etcdMetrics() throws Exception {
        return java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create("http://127.0.0.1:" + etcdPort + "/metrics")).build(), java.net.http.HttpResponse.BodyHandlers.ofString()).body();
    }

    /**
     * Compacts etcd's history up to its current revision (what the API server does every five minutes), through etcd's
     * JSON gateway: a watch that resumes from an older resourceVersion is answered 410 Gone afterwards.
     */
    public long compactEtcd() throws Exception {
        java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
        String status = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + etcdPort + "/v3/kv/range"))
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{\"key\":\"AA==\"}")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString()).body();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"revision\":\"(\\d+)\"").matcher(status);
        if (!m.find()) {
            throw new IllegalStateException("etcd did not say its revision: " + status);
        }
        long revision = Long.parseLong(m.group(1));
        var answer = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + etcdPort + "/v3/kv/compaction"))
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{\"revision\":\"" + revision + "\",\"physical\":true}")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        if (answer.statusCode() != 200) {
            throw new IllegalStateException("etcd refused the compaction: " + answer.body());
        }
        return revision;
    }

    @Override
    public void close() {
        for (int i = processes.size() - 1; i >= 0; i--) {
            Process p = processes.get(i);
            p.destroy();
            try {
                if (!p.waitFor(20, TimeUnit.SECONDS)) {
                    p.destroyForcibly().waitFor();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
