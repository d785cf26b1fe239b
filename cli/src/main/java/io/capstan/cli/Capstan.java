package io.capstan.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of the {@code capstan} command. */
@Command(name = "capstan", mixinStandardHelpOptions = true, version = "capstan 0.1.0",
        description = "Kafka-compatible, durable-by-default message broker.",
        subcommands = {BrokerCommand.class, TopicCommand.class, GroupCommand.class, ProduceCommand.class, ConsumeCommand.class,
                PerfCommand.class, DemoCommand.class, ClusterCommand.class,
                UserCommand.class, AclCommand.class, CertsCommand.class, CommandLine.HelpCommand.class})
public final class Capstan {
    public static void main(String[] args) {
        io.capstan.cluster.FreshAddresses.install();
        System.exit(commandLine().execute(args));
    }

    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Capstan());
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            cmd.getErr().println("error: " + Errors.describe(ex));
            return 1;
        });
        return cl;
    }
}
