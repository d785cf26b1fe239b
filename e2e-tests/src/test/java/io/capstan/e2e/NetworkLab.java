package io.capstan.e2e;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * A network the test owns: one network namespace per node, each joined by a veth pair to a bridge in this process's
 * namespace, which holds the gateway address (the test's clients and controller reach every node through it). Links
 * are cut by blackhole routes in a node's own routing table, which needs no netfilter: {@link #drop} makes a node
 * silently discard what it sends to one address (a one-way loss), {@link #cut} does it both ways (a partition), and
 * {@link #heal} removes every route this lab added. Needs root and iproute2; everything is deleted on {@link #close}.
 * Only addresses in a private /24 of 10.0.0.0/8 picked per lab and the lab's own namespaces are touched.
 */
final class NetworkLab implements AutoCloseable {
    private final String prefix;
    private final String subnet;
    private final String bridge;
    private final List<String> namespaces = new ArrayList<>();
    private final List<String[]> drops = new ArrayList<>();

    /** Whether this machine lets the test build a lab (root, iproute2, network namespaces). */
    static boolean available() {
        try {
            String id = "cpprobe" + ThreadLocalRandom.current().nextInt(100_000);
            run("ip", "netns", "add", id);
            run("ip", "netns", "del", id);
            return true;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    NetworkLab(int nodes) throws IOException {
        int n = ThreadLocalRandom.current().nextInt(1, 250);
        this.prefix = "cp" + Integer.toString(ThreadLocalRandom.current().nextInt(1 << 20), 36);
        this.subnet = "10.213." + n;
        this.bridge = prefix + "br";
        try {
            run("ip", "link", "add", bridge, "type", "bridge");
            run("ip", "addr", "add", gateway() + "/24", "dev", bridge);
            run("ip", "link", "set", bridge, "up");
            for (int i = 0; i < nodes; i++) {
                String ns = namespace(i);
                String inside = prefix + i + "a";
                String outside = prefix + i + "b";
                run("ip", "netns", "add", ns);
                namespaces.add(ns);
                run("ip", "link", "add", inside, "type", "veth", "peer", "name", outside);
                run("ip", "link", "set", inside, "netns", ns);
                run("ip", "link", "set", outside, "master", bridge);
                run("ip", "link", "set", outside, "up");
                run("ip", "-n", ns, "addr", "add", address(i) + "/24", "dev", inside);
                run("ip", "-n", ns, "link", "set", inside, "up");
                run("ip", "-n", ns, "link", "set", "lo", "up");
            }
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    /**
     * Adds {@code address} to this process's side of the bridge, reachable from every node through the gateway, so a
     * service here (a relay to the API server) can be cut from a node without cutting the node from the gateway.
     */
    String addServiceAddress(String address) throws IOException {
        run("ip", "addr", "add", address + "/32", "dev", bridge);
        for (String ns : namespaces) {
            // a /24 through the gateway, so that drop()'s /32 blackhole for the address can come and go on top of it
            run("ip", "-n", ns, "route", "add", address.substring(0, address.lastIndexOf('.')) + ".0/24", "via", gateway());
        }
        return address;
    }

    /** The address of this process's side (the bridge): clients and the controller of the test connect from it. */
    String gateway() {
        return subnet + ".1";
    }

    String address(int node) {
        return subnet + "." + (10 + node);
    }

    String namespace(int node) {
        return prefix + "-n" + node;
    }

    /** The command prefix that runs a program inside node {@code node}'s namespace (same PID, same files). */
    List<String> exec(int node) {
        return List.of("ip", "netns", "exec", namespace(node));
    }

    /** Node {@code from} silently drops every packet it sends to {@code toAddress} (a one-way loss). */
    synchronized void drop(int from, String toAddress) throws IOException {
        run("ip", "-n", namespace(from), "route", "add", "blackhole", toAddress + "/32");
        drops.add(new String[] {namespace(from), toAddress});
    }

    /** Nodes {@code a} and {@code b} no longer hear each other. */
    void cut(int a, int b) throws IOException {
        drop(a, address(b));
        drop(b, address(a));
    }

    /** Node {@code node} and this process (clients, controller) no longer hear each other. */
    void cutFromGateway(int node) throws IOException {
        drop(node, gateway());
    }

    /** Every cut and drop undone. */
    synchronized void heal() throws IOException {
        for (String[] d : drops) {
            run("ip", "-n", d[0], "route", "del", "blackhole", d[1] + "/32");
        }
        drops.clear();
    }

    @Override
    public void close() {
        for (String ns : namespaces) {
            quietly("ip", "netns", "del", ns); // takes its end of the veth, and so the pair, with it
        }
        quietly("ip", "link", "del", bridge);
    }

    private static void quietly(String... cmd) {
        try {
            run(cmd);
        } catch (IOException | RuntimeException ignored) {
            // best effort: it may not have been created
        }
    }

    private static void run(String... cmd) throws IOException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        try {
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(String.join(" ", cmd) + " did not finish in 30 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted: " + String.join(" ", cmd), e);
        }
        if (p.exitValue() != 0) {
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            throw new IOException(String.join(" ", cmd) + " failed (" + p.exitValue() + "): " + out);
        }
    }
}
