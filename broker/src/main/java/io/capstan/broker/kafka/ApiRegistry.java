package io.capstan.broker.kafka;

import java.util.Collection;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;
import org.apache.kafka.common.protocol.ApiKeys;

/** The APIs this broker implements. Anything absent here is absent from ApiVersions too. */
public final class ApiRegistry {
    private final Map<ApiKeys, SupportedApi> apis = new EnumMap<>(ApiKeys.class);

    /** Registers the full range of versions the bundled message classes can read and write. */
    public ApiRegistry add(ApiKeys key, ApiHandler handler) {
        return add(key, key.oldestVersion(), key.latestVersion(), handler);
    }

    public ApiRegistry add(ApiKeys key, short min, short max, ApiHandler handler) {
        apis.put(key, new SupportedApi(key, min, max, handler));
        return this;
    }

    public SupportedApi get(ApiKeys key) {
        return apis.get(key);
    }

    public Collection<SupportedApi> all() {
        return Collections.unmodifiableCollection(apis.values());
    }
}
