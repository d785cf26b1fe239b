package io.capstan.cli;

import picocli.CommandLine.Command;

@Command(name = "perf", mixinStandardHelpOptions = true, description = "Measure produce and consume throughput and latency.",
        subcommands = {PerfProduce.class, PerfConsume.class})
final class PerfCommand {
}
