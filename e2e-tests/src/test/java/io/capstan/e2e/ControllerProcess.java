package io.capstan.e2e;

import static org.awaitility.Awaitility.await;

import io.capstan.cluster.controller.FailoverController;
import io.capstan.cluster.metadata.LocalFileMetadataStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * The failover controller in a JVM of its own on a local metadata store, as the operator's pod or `capstan cluster up`
 * runs it, so a test can SIGKILL or SIGSTOP it. {@link #main} is the process; the rest starts and signals it.
 */
final class ControllerProcess implements AutoCloseable {
    static final String READY = "controller started";
    private final Path metadata;
    private final Path logFile;
    private Process process;
    private List<String> launcher = List.of();
    private final java.util.Map<String, String> environment = new java.util.HashMap<>();

    ControllerProcess(Path metadata, Path logFile) {
        this.metadata = metadata;
        this.logFile = logFile;
    }

    /** Runs it through {@code launcher} (a network namespace's {@code ip netns exec}, so a test can cut its links). */
    ControllerProcess withNetwork(List<String> launcher) {
        this.launcher = List.copyOf(launcher);
        return this;
    }

    /** Extra environment for the process (libfaketime, to run it on a wrong clock). */
    ControllerProcess withEnvironment(java.util.Map<String, String> env) {
        environment.putAll(env);
        return this;
    }

    /** Starts it and waits until its cache is open and its loop runs. */
    ControllerProcess start() throws IOException {
        Files.createDirectories(logFile.getParent());
        List<String> cmd = new java.util.ArrayList<>(launcher);
        cmd.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m",
                "-cp", System.getProperty("java.class.path"), ControllerProcess.class.getName(), metadata.toString()));
        ProcessBuilder builder = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
        builder.environment().putAll(environment);
        process = builder.start();
        long from = Files.exists(logFile) ? Files.size(logFile) : 0;
        await().atMost(Duration.ofSeconds(60)).failFast("controller process exited; see " + logFile, () -> !process.isAlive())
                .until(() -> Files.readString(logFile).substring((int) Math.min(from, Files.size(logFile))).contains(READY));
        return this;
    }

    long pid() {
        return process.pid();
    }

    /** SIGKILL: no shutdown hook; whatever it was writing is left as it was. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor();
    }

    @Override
    public void close() throws InterruptedException {
        if (process != null && process.isAlive()) {
            kill();
        }
    }

    public static void main(String[] args) throws Exception {
        LocalFileMetadataStore store = new LocalFileMetadataStore(Path.of(args[0]), 100);
        FailoverController controller = new FailoverController(store, System::currentTimeMillis);
        controller.start(100);
        System.out.println(READY + " (pid " + ProcessHandle.current().pid() + ")");
        new CountDownLatch(1).await();
    }
}
