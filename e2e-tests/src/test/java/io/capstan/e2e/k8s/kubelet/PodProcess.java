package io.capstan.e2e.k8s.kubelet;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Pod;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** One pod on this node: its single container's process, restarts and readiness, as the kubelet tracks them. */
final class PodProcess {
    final String namespace;
    final String name;
    final String uid;
    final String ip;
    final Path dir;
    final Container container;
    final List<String> command;
    final Map<String, String> env;
    final String started;
    volatile Process process;
    volatile int restarts;
    volatile Integer lastExitCode;
    volatile long restartNotBeforeMs;
    volatile boolean ready;
    volatile boolean stopping;
    volatile boolean statusWritten;
    volatile int livenessFailures;
    volatile long lastLivenessProbeMs;
    volatile long lastReadinessProbeMs;
    volatile int readinessFailures;
    volatile int readinessSuccesses;
    volatile long processStartedAtMs;
    /** ConfigMap and Secret volumes, kept in step with their objects as the kubelet does, with how the container sees paths. */
    volatile Map<io.fabric8.kubernetes.api.model.Volume, Path> projected = Map.of();
    volatile ContainerView view;

    PodProcess(Pod pod, String ip, Path dir, Container container, List<String> command, Map<String, String> env) {
        this.namespace = pod.getMetadata().getNamespace();
        this.name = pod.getMetadata().getName();
        this.uid = pod.getMetadata().getUid();
        this.ip = ip;
        this.dir = dir;
        this.container = container;
        this.command = List.copyOf(command);
        this.env = Map.copyOf(env);
        this.started = java.time.Instant.now().toString();
    }

    void launch() throws IOException {
        ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("container.log").toFile()));
        pb.environment().clear();
        pb.environment().putAll(env);
        process = pb.start();
        processStartedAtMs = System.currentTimeMillis();
        livenessFailures = 0;
        lastReadinessProbeMs = 0;
        readinessFailures = 0;
        readinessSuccesses = 0;
    }

    boolean running() {
        Process p = process;
        return p != null && p.isAlive();
    }

    String key() {
        return namespace + "/" + name;
    }
}
