package io.capstan.broker.config;

import io.capstan.config.BrokerConfig;
import java.util.function.Supplier;

/**
 * The broker's settings as they are now: those it started with, changed live by dynamic broker configs
 * ({@link DynamicConfigStore}). Whatever reads a dynamic setting asks again on each use (one volatile read), so a
 * change applies from the next request or cleaner pass without a restart.
 */
public final class CurrentConfig implements Supplier<BrokerConfig> {
    private volatile BrokerConfig config;

    public CurrentConfig(BrokerConfig started) {
        this.config = started;
    }

    @Override
    public BrokerConfig get() {
        return config;
    }

    void set(BrokerConfig config) {
        this.config = config;
    }
}
