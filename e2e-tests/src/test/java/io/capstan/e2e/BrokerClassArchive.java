package io.capstan.e2e;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Class-data sharing for broker JVMs: one training start per test JVM records the classes a broker loads until it is
 * ready into an archive (-XX:ArchiveClassesAtExit), which later starts map instead of loading and verifying them
 * (here 2.0 s to ready without, 1.25 s with; a CI run starts brokers well over a hundred times, on two loaded cores).
 * A speed-up only: a broker without the archive starts as before, and one whose classpath differs (an older build)
 * never gets it.
 */
final class BrokerClassArchive {
    private static final String JAVA = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    private static boolean trained;
    private static Path archive;

    private BrokerClassArchive() {}

    /**
     * The test JVM's jars, the broker's classpath: an archive cannot be made with a non-empty directory on the path, and
     * the brokers need nothing from this module's own classes (they log in the CLI's own format).
     */
    static final String BROKER_CLASSPATH = java.util.Arrays.stream(System.getProperty("java.class.path").split(java.io.File.pathSeparator))
            .filter(entry -> entry.endsWith(".jar")).collect(java.util.stream.Collectors.joining(java.io.File.pathSeparator));

    /** The JVM options that use the archive for a broker on {@code classpath}; none if there is none for it. */
    static synchronized List<String> options(String classpath) {
        if (!classpath.equals(BROKER_CLASSPATH)) {
            return List.of();
        }
        if (!trained) {
            trained = true;
            archive = train(classpath);
        }
        return archive == null ? List.of() : List.of("-XX:SharedArchiveFile=" + archive);
    }

    private static Path train(String classpath) {
        long began = System.nanoTime();
        try {
            Path dir = Files.createTempDirectory("capstan-broker-cds");
            Path jsa = dir.resolve("broker.jsa");
            Process process = new ProcessBuilder(JAVA, "-XX:ArchiveClassesAtExit=" + jsa, "-Xmx512m", "-XX:+UseParallelGC",
                    "-cp", classpath, "io.capstan.cli.Capstan", "broker", "--data-dir", dir.resolve("data").toString(),
                    "--admin-port", "0", "--port", String.valueOf(BrokerProcess.freePort()))
                    .redirectErrorStream(true).start();
            CompletableFuture<Boolean> ready = CompletableFuture.supplyAsync(() -> readUntilReady(process));
            boolean wasReady = ready.get(60, TimeUnit.SECONDS);
            process.destroy(); // SIGTERM: the JVM exits normally and writes the archive
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                return null;
            }
            jsa.toFile().deleteOnExit();
            dir.toFile().deleteOnExit();
            if (!wasReady || !Files.isRegularFile(jsa) || Files.size(jsa) == 0) {
                System.out.println("broker class archive: none (the training broker did not become ready); brokers start without one");
                return null;
            }
            System.out.printf("broker class archive: %d MB, trained in %d ms%n", Files.size(jsa) >> 20,
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began));
            return jsa;
        } catch (Exception e) {
            System.out.println("broker class archive: none (" + e + "); brokers start without one");
            return null;
        }
    }

    private static boolean readUntilReady(Process process) {
        BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        try {
            String line;
            while ((line = out.readLine()) != null) {
                if (line.contains(" ready: ")) {
                    // drained on until the process ends, so that it never blocks on a full pipe
                    Thread drain = new Thread(() -> out.lines().forEach(l -> { }), "cds-training-drain");
                    drain.setDaemon(true);
                    drain.start();
                    return true;
                }
            }
            return false;
        } catch (IOException | java.io.UncheckedIOException e) {
            return false;
        }
    }
}
