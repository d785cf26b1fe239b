package io.capstan.e2e.k8s.kubelet;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HTTPGetAction;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.NodeStatusBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import io.fabric8.kubernetes.api.model.PodIPBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stands in for the kubelet of one node: runs each pod bound to the node as a real process (its single container's
 * command, with the image's files, volumes and environment as the container would see them, see {@link ContainerView})
 * on a loopback address of its own (127.0.x.y, a new one for each pod object); reports the pod's IP, phase, readiness
 * (from its HTTP readiness probe, honouring its initial delay, period and thresholds) and
 * restarts; restarts a container whose process exits or fails its liveness probe; on deletion runs the preStop hook,
 * sends SIGTERM, and SIGKILL when the grace period ends, then removes the pod. Pods authenticate to the API server as
 * their ServiceAccount (a bound token), so the RBAC they are given is what they get.
 */
public final class PodRunner implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(PodRunner.class);
    private static final int SYNC_MS = 300;

    private final KubernetesClient client;
    private final String nodeName;
    private final Path work;
    private final Images images;
    private final ClusterDns dns;
    private final String apiServer;
    private final Path caCertificate;
    private final Map<String, PodProcess> pods = new ConcurrentHashMap<>();
    /** Each pod's address, by the pod's UID. */
    private final Map<String, String> addresses = new ConcurrentHashMap<>();
    /** Shared by every node's runner: one machine, one loopback network. */
    private static final AtomicInteger nextAddress = new AtomicInteger(10);
    private Set<String> serviceNames = Set.of();
    private final ScheduledExecutorService loop = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "pod-runner"));
    private final ExecutorService lifecycle = Executors.newCachedThreadPool(r -> daemon(r, "pod-runner-lifecycle"));
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

    public PodRunner(KubernetesClient client, String nodeName, Path work, Images images, ClusterDns dns, String apiServer, Path caCertificate) {
        this.client = client;
        this.nodeName = nodeName;
        this.work = work;
        this.images = images;
        this.dns = dns;
        this.apiServer = apiServer;
        this.caCertificate = caCertificate;
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    /** Registers this node, Ready, with the given labels; the API server's not-ready taint is cleared (no node lifecycle controller). */
    public static void registerNode(KubernetesClient client, String nodeName, Map<String, String> labels) {
        Map<String, String> all = new LinkedHashMap<>(labels);
        all.put("kubernetes.io/hostname", nodeName);
        client.nodes().resource(new NodeBuilder().withNewMetadata().withName(nodeName).withLabels(all).endMetadata().build()).create();
        var status = new NodeStatusBuilder()
                .addToCapacity("cpu", new Quantity("16")).addToCapacity("memory", new Quantity("64Gi")).addToCapacity("pods", new Quantity("110"))
                .addToAllocatable("cpu", new Quantity("16")).addToAllocatable("memory", new Quantity("64Gi")).addToAllocatable("pods", new Quantity("110"))
                .addNewCondition().withType("Ready").withStatus("True").withReason("KubeletReady").withMessage("pod runner").endCondition()
                .addNewAddress().withType("InternalIP").withAddress("127.0.0.1").endAddress().build();
        // the controller manager annotates new nodes at once: write onto whatever version is current
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> {
            client.nodes().withName(nodeName).editStatus(n -> {
                n.setStatus(status);
                return n;
            });
            client.nodes().withName(nodeName).edit(n -> {
                n.getSpec().setTaints(List.of());
                return n;
            });
            return true;
        });
    }

    /** PersistentVolumes on local folders under the work directory, for StatefulSet claims to bind to. */
    public static void provisionVolumes(KubernetesClient client, Path folder, int count, String size) {
        for (int i = 0; i < count; i++) {
            client.persistentVolumes().resource(new PersistentVolumeBuilder().withNewMetadata().withName("pv-" + i).endMetadata()
                    .withNewSpec().addToCapacity("storage", new Quantity(size)).withAccessModes("ReadWriteOnce")
                    .withPersistentVolumeReclaimPolicy("Retain")
                    .withNewHostPath().withPath(folder.resolve("pv-" + i).toString()).endHostPath()
                    .endSpec().build()).create();
        }
    }

    public void start() {
        // pods are this JVM's children: a killed or timed-out test run must not leave brokers behind
        Runtime.getRuntime().addShutdownHook(new Thread(() -> pods.values().forEach(p -> {
            if (p.process != null) {
                p.process.destroyForcibly();
            }
        }), "pod-runner-shutdown"));
        loop.scheduleWithFixedDelay(() -> {
            try {
                sync();
            } catch (RuntimeException e) {
                log.warn("pod runner sync failed (will retry): {}", e.toString());
            }
        }, 0, SYNC_MS, TimeUnit.MILLISECONDS);
    }

    /** The address of a running pod. */
    public Optional<String> podIp(String namespace, String name) {
        return pods.values().stream().filter(p -> p.namespace.equals(namespace) && p.name.equals(name) && !p.stopping)
                .map(p -> p.ip).findFirst();
    }

    /** SIGKILL of a pod's process, as if it crashed; the runner restarts it like the kubelet would. */
    public void crash(String namespace, String name) {
        pods.values().stream().filter(p -> p.namespace.equals(namespace) && p.name.equals(name) && p.process != null)
                .forEach(p -> p.process.destroyForcibly());
    }

    /** How many container processes are running now. */
    public int runningProcesses() {
        return (int) pods.values().stream().filter(PodProcess::running).count();
    }

    private static final int REFRESH_EVERY_SYNCS = 10;
    private int syncs;

    void sync() {
        boolean refreshDue = ++syncs % REFRESH_EVERY_SYNCS == 0;
        List<Pod> list = client.pods().inAnyNamespace().withField("spec.nodeName", nodeName).list().getItems();
        Set<String> seen = new HashSet<>();
        for (Pod pod : list) {
            String uid = pod.getMetadata().getUid();
            seen.add(uid);
            PodProcess p = pods.get(uid);
            if (pod.getMetadata().getDeletionTimestamp() != null) {
                if (p == null) {
                    remove(pod);
                } else if (!p.stopping) {
                    p.stopping = true;
                    lifecycle.submit(() -> terminate(p, pod));
                }
                continue;
            }
            String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
            if (p == null) {
                if (!"Failed".equals(phase) && !"Succeeded".equals(phase)) {
                    startPod(pod);
                }
            } else if (!p.stopping) {
                tend(p, pod);
                if (refreshDue) {
                    refreshVolumes(p);
                }
            }
        }
        serviceRecords(list);
        for (String uid : new ArrayList<>(pods.keySet())) {
            if (!seen.contains(uid)) {
                PodProcess gone = pods.remove(uid);
                if (gone.process != null) {
                    gone.process.destroyForcibly();
                }
                log.info("{}: removed from the API server; its process is killed", gone.key());
            }
        }
    }

    private void startPod(Pod pod) {
        String key = pod.getMetadata().getNamespace() + "/" + pod.getMetadata().getName();
        List<Container> containers = pod.getSpec().getContainers();
        if (containers.size() != 1 || (pod.getSpec().getInitContainers() != null && !pod.getSpec().getInitContainers().isEmpty())) {
            fail(pod, "the pod runner runs pods with exactly one container and no init containers");
            return;
        }
        Container container = containers.get(0);
        Optional<Images.Image> image = images.find(container.getImage());
        if (image.isEmpty()) {
            fail(pod, "image " + container.getImage() + " is not on this node (it has " + new java.util.TreeSet<>(images.references()) + ")");
            return;
        }
        try {
            // an address lives as long as the pod object, as on a real node: a pod deleted and created again (a
            // StatefulSet's rolling update) comes back on a new one, so a client holding the old address must re-resolve
            String ip = addresses.computeIfAbsent(pod.getMetadata().getUid(), uid -> nextLoopbackAddress());
            Path dir = work.resolve("pods").resolve(pod.getMetadata().getNamespace() + "_" + pod.getMetadata().getName() + "_" + pod.getMetadata().getUid());
            Files.createDirectories(dir);
            Map<String, Path> mounts = new LinkedHashMap<>();
            mounts.put(image.get().containerPath(), image.get().root());
            Map<String, Volume> volumes = new LinkedHashMap<>();
            if (pod.getSpec().getVolumes() != null) {
                pod.getSpec().getVolumes().forEach(v -> volumes.put(v.getName(), v));
            }
            Map<String, Path> volumeDirs = new LinkedHashMap<>();
            for (Volume v : volumes.values()) {
                volumeDirs.put(v.getName(), volumeDir(pod, v, dir));
            }
            if (container.getVolumeMounts() != null) {
                for (VolumeMount m : container.getVolumeMounts()) {
                    Path host = volumeDirs.get(m.getName());
                    if (host == null) {
                        fail(pod, "volume mount " + m.getName() + " names no volume");
                        return;
                    }
                    mounts.put(m.getMountPath(), m.getSubPath() == null || m.getSubPath().isEmpty() ? host : host.resolve(m.getSubPath()));
                }
            }
            ContainerView view = new ContainerView(mounts, ip);
            Map<Volume, Path> projected = new LinkedHashMap<>();
            for (Volume v : volumes.values()) {
                if (v.getConfigMap() != null || v.getSecret() != null) {
                    projected.put(v, volumeDirs.get(v.getName()));
                    project(pod.getMetadata().getNamespace(), v, volumeDirs.get(v.getName()), view, true);
                }
            }
            Map<String, String> env = environment(pod, container, ip, view, dir);
            List<String> command = new ArrayList<>(container.getCommand() == null || container.getCommand().isEmpty()
                    ? image.get().entrypoint() : container.getCommand());
            if (container.getArgs() != null) {
                command.addAll(container.getArgs());
            }
            command.replaceAll(s -> view.translate(ContainerView.expand(s, env)));
            PodProcess p = new PodProcess(pod, ip, dir, container, command, env);
            p.projected = Map.copyOf(projected);
            p.view = view;
            p.launch();
            pods.put(pod.getMetadata().getUid(), p);
            dns(pod, ip, true);
            log.info("{}: started on {} (pid {}): {}", key, ip, p.process.pid(), String.join(" ", command));
            writeStatus(p);
        } catch (NotYet e) {
            log.debug("{}: not startable yet: {}", key, e.getMessage());
        } catch (IOException | RuntimeException e) {
            log.warn("{}: cannot start: {}", key, e.toString());
            fail(pod, "cannot start: " + e.getMessage());
        }
    }

    /** A pod that waits for something (a claim to bind): tried again on the next pass. */
    private static final class NotYet extends RuntimeException {
        NotYet(String message) {
            super(message, null, false, false);
        }
    }

    private Path volumeDir(Pod pod, Volume v, Path podDir) throws IOException {
        if (v.getPersistentVolumeClaim() != null) {
            PersistentVolumeClaim claim = client.persistentVolumeClaims().inNamespace(pod.getMetadata().getNamespace())
                    .withName(v.getPersistentVolumeClaim().getClaimName()).get();
            if (claim == null || claim.getSpec().getVolumeName() == null || claim.getSpec().getVolumeName().isEmpty()) {
                throw new NotYet("claim " + v.getPersistentVolumeClaim().getClaimName() + " is not bound");
            }
            var pv = client.persistentVolumes().withName(claim.getSpec().getVolumeName()).get();
            if (pv == null || pv.getSpec().getHostPath() == null) {
                throw new IllegalStateException("volume " + claim.getSpec().getVolumeName() + " is not a local folder (hostPath)");
            }
            Path dir = Path.of(pv.getSpec().getHostPath().getPath());
            Files.createDirectories(dir);
            return dir;
        }
        if (v.getConfigMap() != null || v.getSecret() != null || v.getEmptyDir() != null) {
            Path dir = podDir.resolve("volumes").resolve(v.getName());
            Files.createDirectories(dir);
            return dir;
        }
        throw new IllegalStateException("volume " + v.getName() + ": only persistentVolumeClaim, configMap, secret and emptyDir are supported");
    }

    /**
     * Writes a ConfigMap's or Secret's keys as files (ConfigMap text through the container view, so its paths and
     * wildcard addresses are the pod's; Secret bytes as they are). A file whose content changed is replaced by an atomic
     * rename, as the kubelet swaps a symlink, so a reader sees the old content or the new, never half of it.
     */
    private void project(String namespace, Volume v, Path dir, ContainerView view, boolean starting) throws IOException {
        Map<String, byte[]> files = new LinkedHashMap<>();
        if (v.getConfigMap() != null) {
            var cm = client.configMaps().inNamespace(namespace).withName(v.getConfigMap().getName()).get();
            if (cm == null) {
                if (starting) {
                    throw new NotYet("config map " + v.getConfigMap().getName() + " does not exist");
                }
                return;
            }
            if (cm.getData() != null) {
                cm.getData().forEach((k, value) -> files.put(k, view.translate(value).getBytes(java.nio.charset.StandardCharsets.UTF_8)));
            }
        } else {
            var secret = client.secrets().inNamespace(namespace).withName(v.getSecret().getSecretName()).get();
            if (secret == null) {
                if (starting) {
                    throw new NotYet("secret " + v.getSecret().getSecretName() + " does not exist");
                }
                return;
            }
            if (secret.getData() != null) {
                secret.getData().forEach((k, value) -> files.put(k, java.util.Base64.getDecoder().decode(value)));
            }
        }
        for (var e : files.entrySet()) {
            Path file = dir.resolve(e.getKey());
            if (Files.exists(file) && java.util.Arrays.equals(Files.readAllBytes(file), e.getValue())) {
                continue;
            }
            Path tmp = dir.resolve("." + e.getKey() + ".tmp");
            Files.write(tmp, e.getValue());
            Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        }
    }

    /** The kubelet's periodic sync of ConfigMap and Secret volumes (every few seconds here; about a minute on a real node). */
    private void refreshVolumes(PodProcess p) {
        for (var e : p.projected.entrySet()) {
            try {
                project(p.namespace, e.getKey(), e.getValue(), p.view, false);
            } catch (IOException | RuntimeException ex) {
                log.warn("{}: cannot refresh volume {}: {}", p.key(), e.getKey().getName(), ex.toString());
            }
        }
    }

    private Map<String, String> environment(Pod pod, Container container, String ip, ContainerView view, Path dir) throws IOException {
        Map<String, String> env = new LinkedHashMap<>();
        for (String inherited : List.of("PATH", "JAVA_HOME", "LANG")) {
            if (System.getenv(inherited) != null) {
                env.put(inherited, System.getenv(inherited));
            }
        }
        env.put("HOME", dir.toString());
        env.put("HOSTNAME", pod.getMetadata().getName());
        if (container.getEnv() != null) {
            for (EnvVar e : container.getEnv()) {
                env.put(e.getName(), view.translate(envValue(pod, e, ip, env)));
            }
        }
        if (!Boolean.FALSE.equals(pod.getSpec().getAutomountServiceAccountToken())) {
            env.put("KUBECONFIG", serviceAccountKubeconfig(pod, dir).toString());
        }
        String jvm = env.getOrDefault("JAVA_TOOL_OPTIONS", "");
        env.put("JAVA_TOOL_OPTIONS", (jvm + " " + dns.jvmOption() + " -Xmx512m -XX:+UseSerialGC").trim());
        return env;
    }

    private static String envValue(Pod pod, EnvVar e, String ip, Map<String, String> env) {
        if (e.getValueFrom() == null) {
            return e.getValue() == null ? "" : ContainerView.expand(e.getValue(), env);
        }
        if (e.getValueFrom().getFieldRef() == null) {
            throw new IllegalStateException("env " + e.getName() + ": only values and fieldRef are supported");
        }
        String field = e.getValueFrom().getFieldRef().getFieldPath();
        return switch (field) {
            case "metadata.name" -> pod.getMetadata().getName();
            case "metadata.namespace" -> pod.getMetadata().getNamespace();
            case "metadata.uid" -> pod.getMetadata().getUid();
            case "spec.nodeName" -> pod.getSpec().getNodeName();
            case "spec.serviceAccountName" -> serviceAccount(pod);
            case "status.podIP" -> ip;
            case "status.hostIP" -> "127.0.0.1";
            default -> throw new IllegalStateException("env " + e.getName() + ": fieldRef " + field + " is not supported");
        };
    }

    private static String serviceAccount(Pod pod) {
        String sa = pod.getSpec().getServiceAccountName();
        return sa == null || sa.isEmpty() ? "default" : sa;
    }

    /** A kubeconfig with a token bound to this pod (invalid once the pod is gone), like a projected service account token. */
    private Path serviceAccountKubeconfig(Pod pod, Path dir) throws IOException {
        var token = client.serviceAccounts().inNamespace(pod.getMetadata().getNamespace()).withName(serviceAccount(pod))
                .tokenRequest(new TokenRequestBuilder().withNewSpec().withExpirationSeconds(24 * 3600L)
                        .withNewBoundObjectRef().withApiVersion("v1").withKind("Pod").withName(pod.getMetadata().getName())
                        .withUid(pod.getMetadata().getUid()).endBoundObjectRef().endSpec().build());
        return io.capstan.e2e.k8s.Kubeconfig.write(dir.resolve("serviceaccount.kubeconfig"), apiServer, caCertificate,
                serviceAccount(pod), "{token: \"" + token.getStatus().getToken() + "\"}", pod.getMetadata().getNamespace());
    }

    /**
     * Each Service with a selector resolves to its ready pods, as a headless Service would: this node's runner adds
     * those on this node, the other nodes' runners theirs.
     */
    private void serviceRecords(List<Pod> onNode) {
        Set<String> names = new HashSet<>();
        for (var service : client.services().inAnyNamespace().list().getItems()) {
            Map<String, String> selector = service.getSpec().getSelector();
            if (selector == null || selector.isEmpty()) {
                continue;
            }
            List<String> ips = new ArrayList<>();
            for (Pod pod : onNode) {
                PodProcess p = pods.get(pod.getMetadata().getUid());
                Map<String, String> labels = pod.getMetadata().getLabels();
                if (p != null && p.ready && !p.stopping && labels != null && labels.entrySet().containsAll(selector.entrySet())
                        && pod.getMetadata().getNamespace().equals(service.getMetadata().getNamespace())) {
                    ips.add(p.ip);
                }
            }
            String base = service.getMetadata().getName() + "." + service.getMetadata().getNamespace() + ".svc";
            for (String name : List.of(base, base + ".cluster.local")) {
                dns.setFrom(nodeName, name, ips);
                names.add(name);
            }
        }
        serviceNames.stream().filter(n -> !names.contains(n)).forEach(n -> dns.setFrom(nodeName, n, List.of()));
        serviceNames = names;
    }

    /** A StatefulSet pod's DNS name under its headless Service, as CoreDNS would serve it. */
    private void dns(Pod pod, String ip, boolean add) {
        String hostname = pod.getSpec().getHostname();
        String subdomain = pod.getSpec().getSubdomain();
        if (hostname == null || subdomain == null) {
            return;
        }
        String base = hostname + "." + subdomain + "." + pod.getMetadata().getNamespace() + ".svc";
        for (String name : List.of(base, base + ".cluster.local")) {
            if (add) {
                dns.put(name, ip);
            } else {
                dns.remove(name);
            }
        }
    }

    /** 127.0.0.10, 127.0.0.11, ... 127.0.1.1, ...: never a network (.0) or broadcast (.255) address. */
    private String nextLoopbackAddress() {
        while (true) {
            int n = nextAddress.getAndIncrement();
            if ((n & 0xFF) != 0 && (n & 0xFF) != 0xFF) {
                return "127.0." + ((n >> 8) & 0xFF) + "." + (n & 0xFF);
            }
        }
    }

    /** Restart a container that exited or failed liveness; probe readiness; write the status when it changes. */
    private void tend(PodProcess p, Pod pod) {
        long now = System.currentTimeMillis();
        if (!p.running()) {
            if (p.ready || p.lastExitCode == null) {
                p.lastExitCode = p.process.exitValue();
                p.ready = false;
                p.restartNotBeforeMs = now + Math.min(10_000, 1_000L << Math.min(p.restarts, 4));
                log.info("{}: container exited with {}; restarting after back-off", p.key(), p.lastExitCode);
                writeStatus(p);
            }
            if (now >= p.restartNotBeforeMs) {
                try {
                    p.restarts++;
                    p.launch();
                    p.lastExitCode = null;
                    writeStatus(p);
                } catch (IOException e) {
                    log.warn("{}: restart failed: {}", p.key(), e.toString());
                }
            }
            return;
        }
        var liveness = p.container.getLivenessProbe();
        if (liveness != null && liveness.getHttpGet() != null) {
            long delay = 1000L * (liveness.getInitialDelaySeconds() == null ? 0 : liveness.getInitialDelaySeconds());
            long period = 1000L * (liveness.getPeriodSeconds() == null ? 10 : liveness.getPeriodSeconds());
            if (now - p.processStartedAtMs >= delay && now - p.lastLivenessProbeMs >= period) {
                p.lastLivenessProbeMs = now;
                p.livenessFailures = probe(p, liveness.getHttpGet()) ? 0 : p.livenessFailures + 1;
                int threshold = liveness.getFailureThreshold() == null ? 3 : liveness.getFailureThreshold();
                if (p.livenessFailures >= threshold) {
                    log.info("{}: liveness probe failed {} times; killing the container", p.key(), p.livenessFailures);
                    p.process.destroyForcibly();
                    return;
                }
            }
        }
        boolean ready = readiness(p, now);
        if (ready != p.ready || !p.statusWritten) {
            p.ready = ready;
            writeStatus(p);
        }
    }

    /**
     * Readiness as the kubelet judges it: the first probe after initialDelaySeconds, then one every periodSeconds;
     * ready after successThreshold successes in a row, unready after failureThreshold failures in a row (a container
     * starts unready). Kubernetes' defaults where the probe leaves a field out.
     */
    private boolean readiness(PodProcess p, long now) {
        var readiness = p.container.getReadinessProbe();
        if (readiness == null || readiness.getHttpGet() == null) {
            return true;
        }
        long delay = 1000L * (readiness.getInitialDelaySeconds() == null ? 0 : readiness.getInitialDelaySeconds());
        long period = 1000L * (readiness.getPeriodSeconds() == null ? 10 : readiness.getPeriodSeconds());
        if (now - p.processStartedAtMs < delay || now - p.lastReadinessProbeMs < period) {
            return p.ready;
        }
        p.lastReadinessProbeMs = now;
        if (probe(p, readiness.getHttpGet())) {
            p.readinessFailures = 0;
            p.readinessSuccesses++;
        } else {
            p.readinessSuccesses = 0;
            p.readinessFailures++;
        }
        int successes = readiness.getSuccessThreshold() == null ? 1 : readiness.getSuccessThreshold();
        int failures = readiness.getFailureThreshold() == null ? 3 : readiness.getFailureThreshold();
        return p.ready ? p.readinessFailures < failures : p.readinessSuccesses >= successes;
    }

    private boolean probe(PodProcess p, HTTPGetAction get) {
        try {
            HttpResponse<Void> r = http.send(HttpRequest.newBuilder(URI.create("http://" + p.ip + ":" + port(p.container, get) + get.getPath()))
                    .timeout(Duration.ofSeconds(1)).GET().build(), HttpResponse.BodyHandlers.discarding());
            return r.statusCode() >= 200 && r.statusCode() < 400;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static int port(Container c, HTTPGetAction get) {
        if (get.getPort().getIntVal() != null) {
            return get.getPort().getIntVal();
        }
        String name = get.getPort().getStrVal();
        return c.getPorts().stream().filter(cp -> name.equals(cp.getName())).map(ContainerPort::getContainerPort).findFirst()
                .orElseThrow(() -> new IllegalStateException("probe port " + name + " is not a container port"));
    }

    /** preStop, SIGTERM, SIGKILL at the end of the grace period; then the pod object goes (the kubelet's final delete). */
    private void terminate(PodProcess p, Pod pod) {
        long grace = pod.getMetadata().getDeletionGracePeriodSeconds() != null ? pod.getMetadata().getDeletionGracePeriodSeconds()
                : pod.getSpec().getTerminationGracePeriodSeconds() != null ? pod.getSpec().getTerminationGracePeriodSeconds() : 30;
        long deadline = System.currentTimeMillis() + grace * 1000;
        try {
            p.ready = false;
            writeStatus(p);
            var lifecycle = p.container.getLifecycle();
            if (p.running() && lifecycle != null && lifecycle.getPreStop() != null && lifecycle.getPreStop().getHttpGet() != null) {
                HTTPGetAction get = lifecycle.getPreStop().getHttpGet();
                try {
                    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://" + p.ip + ":" + port(p.container, get) + get.getPath()))
                                    .timeout(Duration.ofMillis(Math.max(1, deadline - System.currentTimeMillis()))).GET().build(),
                            HttpResponse.BodyHandlers.ofString());
                    log.info("{}: preStop {} answered {}: {}", p.key(), get.getPath(), r.statusCode(), r.body().strip());
                } catch (IOException e) {
                    log.info("{}: preStop {} failed: {}", p.key(), get.getPath(), e.toString());
                }
            }
            if (p.process != null && p.process.isAlive()) {
                p.process.destroy();
                long left = Math.max(0, deadline - System.currentTimeMillis());
                if (!p.process.waitFor(left, TimeUnit.MILLISECONDS)) {
                    log.info("{}: still running after the {} s grace period; SIGKILL", p.key(), grace);
                    p.process.destroyForcibly().waitFor();
                }
                log.info("{}: stopped (exit {})", p.key(), p.process.exitValue());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.process.destroyForcibly();
        } catch (RuntimeException e) {
            log.warn("{}: termination: {}", p.key(), e.toString());
            p.process.destroyForcibly();
        } finally {
            pods.remove(p.uid);
            dns(pod, p.ip, false);
            remove(pod);
        }
    }

    private void remove(Pod pod) {
        try {
            client.pods().inNamespace(pod.getMetadata().getNamespace()).withName(pod.getMetadata().getName()).withGracePeriod(0).delete();
        } catch (RuntimeException e) {
            log.warn("{}/{}: final delete failed (next pass retries): {}", pod.getMetadata().getNamespace(), pod.getMetadata().getName(), e.toString());
        }
    }

    private void fail(Pod pod, String message) {
        log.warn("{}/{}: {}", pod.getMetadata().getNamespace(), pod.getMetadata().getName(), message);
        client.pods().inNamespace(pod.getMetadata().getNamespace()).withName(pod.getMetadata().getName()).editStatus(current -> {
            current.getStatus().setPhase("Failed");
            current.getStatus().setReason("PodRunnerRefused");
            current.getStatus().setMessage(message);
            return current;
        });
    }

    private void writeStatus(PodProcess p) {
        String now = Instant.now().toString();
        boolean running = p.running();
        List<PodCondition> conditions = List.of(
                condition("PodScheduled", true, now), condition("Initialized", true, now),
                condition("ContainersReady", p.ready, now), condition("Ready", p.ready, now));
        var status = new ContainerStatusBuilder().withName(p.container.getName()).withImage(p.container.getImage())
                .withImageID(p.container.getImage()).withContainerID("capstan://" + (p.process == null ? 0 : p.process.pid()))
                .withReady(p.ready).withStarted(running).withRestartCount(p.restarts);
        if (running) {
            status.withNewState().withNewRunning().withStartedAt(Instant.ofEpochMilli(p.processStartedAtMs).toString()).endRunning().endState();
        } else {
            status.withNewState().withNewWaiting().withReason("CrashLoopBackOff").endWaiting().endState();
        }
        if (p.lastExitCode != null) {
            status.withNewLastState().withNewTerminated().withExitCode(p.lastExitCode).endTerminated().endLastState();
        }
        try {
            client.pods().inNamespace(p.namespace).withName(p.name).editStatus(pod -> {
                if (!p.uid.equals(pod.getMetadata().getUid())) {
                    return pod;
                }
                pod.getStatus().setPhase("Running");
                pod.getStatus().setHostIP("127.0.0.1");
                pod.getStatus().setPodIP(p.ip);
                pod.getStatus().setPodIPs(List.of(new PodIPBuilder().withIp(p.ip).build()));
                pod.getStatus().setStartTime(p.started);
                pod.getStatus().setConditions(conditions);
                pod.getStatus().setContainerStatuses(List.of(status.build()));
                return pod;
            });
            p.statusWritten = true;
        } catch (RuntimeException e) {
            p.statusWritten = false;
            log.debug("{}: status not written (next pass retries): {}", p.key(), e.toString());
        }
    }

    private static PodCondition condition(String type, boolean value, String now) {
        return new PodConditionBuilder().withType(type).withStatus(value ? "True" : "False").withLastTransitionTime(now).build();
    }

    /**
     * The node dies: its pods' processes are SIGKILLed and it stops reporting; the Service addresses it contributed go,
     * as CoreDNS drops the pods the node lifecycle controller marks not ready ({@link #markNodeLost} does that marking).
     */
    public void loseNode() throws InterruptedException {
        close();
        loop.awaitTermination(10, TimeUnit.SECONDS);
        serviceNames.forEach(n -> dns.setFrom(nodeName, n, List.of()));
    }

    /**
     * What the node lifecycle controller (not run here) does once a node stops reporting: its Ready condition becomes
     * Unknown, it is tainted unreachable (nothing new is scheduled there), and its pods are marked not ready. Pods
     * are not evicted: a StatefulSet's pod stays until someone deletes it.
     */
    public static void markNodeLost(KubernetesClient client, String nodeName) {
        String now = Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString();
        client.nodes().withName(nodeName).editStatus(n -> {
            n.getStatus().getConditions().removeIf(c -> "Ready".equals(c.getType()));
            n.getStatus().getConditions().add(new io.fabric8.kubernetes.api.model.NodeConditionBuilder().withType("Ready").withStatus("Unknown")
                    .withReason("NodeStatusUnknown").withMessage("Kubelet stopped posting node status.").withLastTransitionTime(now)
                    .withLastHeartbeatTime(now).build());
            return n;
        });
        client.nodes().withName(nodeName).edit(n -> {
            n.getSpec().setTaints(List.of(
                    new io.fabric8.kubernetes.api.model.TaintBuilder().withKey("node.kubernetes.io/unreachable").withEffect("NoSchedule").build(),
                    new io.fabric8.kubernetes.api.model.TaintBuilder().withKey("node.kubernetes.io/unreachable").withEffect("NoExecute")
                            .withTimeAdded(now).build()));
            return n;
        });
        for (Pod pod : client.pods().inAnyNamespace().withField("spec.nodeName", nodeName).list().getItems()) {
            client.pods().inNamespace(pod.getMetadata().getNamespace()).withName(pod.getMetadata().getName()).editStatus(p -> {
                if (p.getStatus().getConditions() != null) {
                    p.getStatus().getConditions().stream().filter(c -> "Ready".equals(c.getType()) || "ContainersReady".equals(c.getType()))
                            .forEach(c -> {
                                c.setStatus("False");
                                c.setLastTransitionTime(now);
                            });
                }
                return p;
            });
        }
    }

    @Override
    public void close() {
        loop.shutdownNow();
        for (PodProcess p : pods.values()) {
            if (p.process != null) {
                p.process.destroyForcibly();
            }
        }
        for (PodProcess p : pods.values()) {
            try {
                if (p.process != null) {
                    p.process.waitFor(20, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        lifecycle.shutdownNow();
    }
}
