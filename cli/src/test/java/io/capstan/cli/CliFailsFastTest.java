package io.capstan.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.broker.Broker;
import io.capstan.config.BrokerConfig;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CLI as a user runs it, in a process of its own (so its logging is what a terminal shows): a wrong address or a
 * missing topic ends within --timeout (plus the JVM's start) with exit status 1 and one line saying what is wrong and
 * what to do next, and none of the Kafka client's log lines unless --verbose.
 */
class CliFailsFastTest {
    /** Generous room for a cold JVM's start on a busy 2-core machine: the bound is --timeout plus this. */
    static final long START_SLACK_MS = 15_000;

    @TempDir
    Path dir;

    record Result(int exit, String out, String err, long elapsedMs) {
        List<String> errLines() {
            return err.lines().filter(l -> !l.isBlank()).toList();
        }
    }

    Result capstan(String stdin, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "io.capstan.cli.Capstan"));
        cmd.addAll(List.of(args));
        Path out = dir.resolve("out-" + System.nanoTime());
        Path err = dir.resolve("err-" + System.nanoTime());
        Path in = dir.resolve("in-" + System.nanoTime());
        Files.writeString(in, stdin);
        long start = System.nanoTime();
        Process p = new ProcessBuilder(cmd).redirectInput(in.toFile()).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        try {
            assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("capstan %s ended", String.join(" ", args)).isTrue();
        } finally {
            p.destroyForcibly();
        }
        return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8),
                (System.nanoTime() - start) / 1_000_000);
    }

    static String nothingListening() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return "127.0.0.1:" + s.getLocalPort();
        }
    }

    @Test
    void aWrongAddressEndsWithinTheTimeoutSayingWhichAddressAndWhatToDo() throws Exception {
        String address = nothingListening();
        for (String[] command : List.of(new String[] {"topic", "list"}, new String[] {"produce", "-t", "orders"},
                new String[] {"consume", "-t", "orders"}, new String[] {"group", "list"})) {
            List<String> args = new ArrayList<>(List.of(command));
            args.addAll(List.of("-b", address, "--timeout", "3s"));
            Result r = capstan("a line\n", args.toArray(String[]::new));
            assertThat(r.exit()).as("%s: exit status; stderr: %s", args, r.err()).isEqualTo(1);
            assertThat(r.errLines()).as("%s: one line, no client log", args).singleElement().asString()
                    .startsWith("error: no answer from a broker at " + address + " within 3 s")
                    .contains("start one with 'capstan broker'").contains("-b host:port").contains("--timeout");
            assertThat(r.elapsedMs()).as("%s gave up within --timeout plus a JVM start", args).isLessThan(3_000 + START_SLACK_MS);
        }
    }

    @Test
    void aMissingTopicSaysHowToCreateIt() throws Exception {
        Map<String, String> settings = Map.of("data.dir", dir.resolve("data").toString(), "listener.port", "0", "admin.port", "-1");
        try (Broker broker = new Broker(BrokerConfig.from(settings), settings)) {
            for (String command : List.of("produce", "consume")) {
                Result r = capstan("a line\n", command, "-t", "nope", "-b", broker.bootstrap());
                assertThat(r.exit()).as("%s: exit status; stderr: %s", command, r.err()).isEqualTo(1);
                assertThat(r.errLines()).as(command).singleElement().asString()
                        .isEqualTo("error: topic nope does not exist at " + broker.bootstrap() + " (create it: capstan topic create nope"
                                + " --partitions 3 -b " + broker.bootstrap() + "; see what exists: capstan topic list -b " + broker.bootstrap() + ")");
                assertThat(r.elapsedMs()).as(command).isLessThan(10_000 + START_SLACK_MS);
            }
            // and the advice works: created as it says, the same produce succeeds
            assertThat(capstan("", "topic", "create", "nope", "--partitions", "3", "-b", broker.bootstrap()).exit()).isZero();
            Result produced = capstan("a line\n", "produce", "-t", "nope", "-b", broker.bootstrap());
            assertThat(produced.exit()).as(produced.err()).isZero();
            assertThat(produced.err()).contains("produced 1 records to nope");
        }
    }

    @Test
    void verboseShowsTheKafkaClientsOwnLogLines() throws Exception {
        Result r = capstan("", "topic", "list", "-b", nothingListening(), "--timeout", "2s", "--verbose");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).as("the client's warnings, which are hidden without --verbose").contains("WARN NetworkClient").contains("could not be established");
        assertThat(r.errLines().get(r.errLines().size() - 1)).startsWith("error: no answer from a broker");
    }

    @Test
    void aTimeoutThatIsNotADurationIsRefusedNamingTheFlag() throws Exception {
        Result r = capstan("", "topic", "list", "--timeout", "soon");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("--timeout").contains("'soon' is not a timeout").contains("e.g. 10s");
    }

    @Test
    void shellCompletionIsGenerated() throws Exception {
        Result r = capstan("", "generate-completion");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("complete -F").contains("produce").contains("consume");
    }
}
