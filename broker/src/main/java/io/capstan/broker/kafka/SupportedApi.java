package io.capstan.broker.kafka;

import org.apache.kafka.common.protocol.ApiKeys;

/** One API this broker answers, the version range it advertises, and its handler. */
public record SupportedApi(ApiKeys key, short minVersion, short maxVersion, ApiHandler handler) {
    public boolean supports(short version) {
        return version >= minVersion && version <= maxVersion;
    }
}
