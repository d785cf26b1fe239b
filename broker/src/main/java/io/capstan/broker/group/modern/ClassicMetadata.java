package io.capstan.broker.group.modern;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a member using the classic protocol inside a consumer-protocol group brings from its JoinGroup: the session it
 * asked for and its protocols (assignor name to consumer-protocol subscription, in its order of preference). Kafka 4
 * keeps such members so an application can move between protocols one instance at a time.
 */
public record ClassicMetadata(int sessionTimeoutMs, Map<String, byte[]> protocols) {
    public ClassicMetadata {
        protocols = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(protocols));
    }

    /** The protocol the member prefers; what its JoinGroup and SyncGroup answers name. */
    public String protocolName() {
        return protocols.keySet().iterator().next();
    }
}
