package io.capstan.cli;

import io.capstan.config.BrokerConfig;
import java.util.stream.Collectors;

/** The broker settings table, as printed by {@code capstan broker --print-config} and kept in docs/configuration.md. */
final class ConfigReference {
    private ConfigReference() {}

    static String markdownTable() {
        return "| key | default | meaning |\n|---|---|---|\n" + BrokerConfig.KEYS.stream()
                .map(k -> "| `" + k.name() + "` | `" + k.defaultValue() + "` | " + k.description() + " |")
                .collect(Collectors.joining("\n")) + "\n";
    }
}
