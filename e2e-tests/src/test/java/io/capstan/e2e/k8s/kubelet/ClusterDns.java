package io.capstan.e2e.k8s.kubelet;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.TreeMap;

/**
 * Cluster DNS for JVMs: the records CoreDNS would serve for pods with a hostname and subdomain (a StatefulSet's pods
 * behind its headless Service) and for Services (their ready pods' addresses: no virtual IPs here, so a Service name
 * resolves as a headless one would), written as a hosts file that JVMs started with -Djdk.net.hosts.file resolve from.
 * Replaced atomically, so a reader never sees half a file.
 */
public final class ClusterDns {
    private final Path file;
    private final Map<String, java.util.SortedSet<String>> records = new TreeMap<>();
    /** A Service name's ready addresses as each node's runner sees them: the name resolves to all of them. */
    private final Map<String, Map<String, java.util.SortedSet<String>>> byNode = new TreeMap<>();

    public ClusterDns(Path file) {
        this.file = file;
        write();
    }

    /** The JVM option that makes a JVM resolve names from this file (and only from it). */
    public String jvmOption() {
        return "-Djdk.net.hosts.file=" + file;
    }

    public Path file() {
        return file;
    }

    public synchronized void put(String name, String ip) {
        set(name, java.util.List.of(ip));
    }

    public synchronized void remove(String name) {
        set(name, java.util.List.of());
    }

    /** The addresses {@code node} contributes to {@code name} (a Service spanning nodes); the name resolves to every node's. */
    public synchronized void setFrom(String node, String name, java.util.Collection<String> ips) {
        Map<String, java.util.SortedSet<String>> nodes = byNode.computeIfAbsent(name, n -> new TreeMap<>());
        if (ips.isEmpty()) {
            nodes.remove(node);
        } else {
            nodes.put(node, new java.util.TreeSet<>(ips));
        }
        java.util.SortedSet<String> all = new java.util.TreeSet<>();
        nodes.values().forEach(all::addAll);
        if (nodes.isEmpty()) {
            byNode.remove(name);
        }
        set(name, all);
    }

    /** All addresses of a name (none removes it). */
    public synchronized void set(String name, java.util.Collection<String> ips) {
        java.util.SortedSet<String> next = new java.util.TreeSet<>(ips);
        java.util.SortedSet<String> previous = next.isEmpty() ? records.remove(name) : records.put(name, next);
        if (!next.equals(previous == null ? new java.util.TreeSet<String>() : previous)) {
            write();
        }
    }

    private void write() {
        StringBuilder b = new StringBuilder("127.0.0.1 localhost\n");
        records.forEach((name, ips) -> ips.forEach(ip -> b.append(ip).append(' ').append(name).append('\n')));
        try {
            Files.createDirectories(file.getParent());
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            Files.writeString(tmp, b);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
