package io.capstan.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of the {@code capstan} command. */
@Command(name = "capstan", mixinStandardHelpOptions = true, version = "capstan 0.1.0",
        description = "Kafka-compatible, durable-by-default message broker.",
        subcommands = {BrokerCommand.class, TopicCommand.class, GroupCommand.class, ProduceCommand.class, ConsumeCommand.class,
                PerfCommand.class, DemoCommand.class, ClusterCommand.class, ConsoleCommand.class,
                UserCommand.class, AclCommand.class, CertsCommand.class, CommandLine.HelpCommand.class,
                picocli.AutoComplete.GenerateCompletion.class})
public final class Capstan {
    /** Commands that are Kafka clients: their client library's log lines are hidden unless --verbose. */
    private static final java.util.Set<String> CLIENT_COMMANDS = java.util.Set.of("topic", "group", "produce", "consume", "perf",
            "user", "acl", "console");

    public static void main(String[] args) {
        if (args.length > 0 && CLIENT_COMMANDS.contains(args[0]) && !java.util.List.of(args).contains("--verbose")) {
            // before the first logger exists: the Kafka clients retry quietly, and the command says what failed in one line
            System.setProperty("org.slf4j.simpleLogger.log.org.apache.kafka", "off");
        }
        io.capstan.cluster.FreshAddresses.install();
        System.exit(commandLine().execute(args));
    }

    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Capstan());
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            Object client = cmd.getMixins().get("client");
            String message = ex instanceof UserError ? ex.getMessage()
                    : client instanceof ClientOptions options ? options.explain(ex) : Errors.describe(ex);
            cmd.getErr().println("error: " + message);
            return 1;
        });
        return cl;
    }
}
