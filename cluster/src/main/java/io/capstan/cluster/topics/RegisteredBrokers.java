package io.capstan.cluster.topics;

import io.capstan.cluster.metadata.BrokerRegistration;
import io.capstan.cluster.metadata.MetadataCodec;
import io.capstan.cluster.metadata.MetadataStore;
import java.util.List;

/** Brokers as the store itself has them, for the rare admin writes that must not act on an older cache. */
final class RegisteredBrokers {
    private RegisteredBrokers() {}

    static List<BrokerRegistration> read(MetadataStore store) {
        return store.list("brokers/").values().stream().map(v -> MetadataCodec.decode(v.value(), BrokerRegistration.class)).toList();
    }
}
