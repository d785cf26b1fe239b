package io.capstan.cli;

import io.capstan.config.BrokerConfig;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/**
 * Where broker settings come from, lowest precedence first: defaults, the config file, environment variables
 * ({@code CAPSTAN_LOG_FLUSH_POLICY} for {@code log.flush.policy}), then command-line flags.
 */
final class BrokerSettings {
    private BrokerSettings() {}

    static Map<String, String> resolve(Path file, Map<String, String> env, Map<String, String> flags) {
        Map<String, String> settings = new LinkedHashMap<>();
        if (file != null) {
            Properties p = new Properties();
            try (Reader r = Files.newBufferedReader(file)) {
                p.load(r);
            } catch (IOException e) {
                throw new IllegalArgumentException("cannot read config file " + file + ": " + e.getMessage());
            }
            p.stringPropertyNames().forEach(k -> settings.put(k, p.getProperty(k)));
        }
        for (BrokerConfig.Key key : BrokerConfig.KEYS) {
            String value = env.get(envName(key.name()));
            if (value != null) {
                settings.put(key.name(), value);
            }
        }
        settings.putAll(flags);
        return settings;
    }

    static String envName(String key) {
        return "CAPSTAN_" + key.toUpperCase(Locale.ROOT).replace('.', '_');
    }
}
