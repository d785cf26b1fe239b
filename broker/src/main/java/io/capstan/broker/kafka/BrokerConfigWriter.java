package io.capstan.broker.kafka;

import io.capstan.broker.config.DynamicConfigStore;
import io.capstan.config.DynamicSettings;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import org.apache.kafka.common.protocol.Errors;

/**
 * A change to dynamic broker configs (a BROKER resource of either AlterConfigs API), with Kafka's rules: the resource
 * "" is the cluster default, a broker id only the broker it is sent to (admin clients send it there); only
 * {@link DynamicSettings#KEYS} may change; the result must be a configuration the broker would start with. Kafka
 * answers all of these with INVALID_REQUEST (KAFKA-13609), and so does Capstan, with a message saying what to do.
 */
final class BrokerConfigWriter {
    private final DynamicConfigStore store;

    BrokerConfigWriter(DynamicConfigStore store) {
        this.store = store;
    }

    /** {@code change}: the entity's current dynamic settings to the outcome of the request. */
    TopicConfigWriter.Result write(String resourceName, List<String> keys, Function<Map<String, String>, TopicConfigChange.Outcome> change,
                                   boolean validateOnly) {
        Integer broker;
        if (resourceName.isEmpty()) {
            broker = null;
        } else {
            try {
                broker = Integer.parseInt(resourceName);
            } catch (NumberFormatException e) {
                return invalid("Node id must be an integer, but it is: " + resourceName);
            }
            if (broker != store.brokerId()) {
                return invalid("Unexpected broker id, expected " + store.brokerId() + ", but received " + resourceName
                        + ": send a broker's configs to that broker (Kafka's admin clients do)");
            }
        }
        Set<String> unknown = new java.util.TreeSet<>(keys);
        io.capstan.config.BrokerConfig.KEYS.forEach(k -> unknown.remove(k.name()));
        unknown.removeIf(k -> k.startsWith("listener.name.")); // a listener's own setting: known, and static
        if (!unknown.isEmpty()) {
            return invalid("Unknown broker config(s) " + unknown + ": docs/configuration.md lists Capstan's settings (some differ from"
                    + " Kafka's names, e.g. retention.ms for log.retention.ms)");
        }
        Set<String> refused = DynamicSettings.notDynamic(keys);
        if (!refused.isEmpty()) {
            return invalid("Cannot update these configs dynamically: " + refused + ". Capstan reads them at start: change them in the"
                    + " broker's properties file (on Kubernetes, the BrokerCluster's spec.config, which the operator rolls out) and restart"
                    + " the broker. Settings that can change live: " + new java.util.TreeSet<>(DynamicSettings.KEYS));
        }
        for (int attempt = 0; attempt < 100; attempt++) {
            DynamicConfigStore.Read current = store.read(broker);
            TopicConfigChange.Outcome outcome = change.apply(current.values());
            if (!outcome.ok()) {
                return new TopicConfigWriter.Result(outcome.error(), outcome.message());
            }
            Map<String, String> next = new HashMap<>(outcome.configs());
            String problem = store.problem(broker, next);
            if (problem != null) {
                return invalid(problem + " (nothing changed)");
            }
            if (validateOnly) {
                return TopicConfigWriter.Result.NONE;
            }
            if (store.write(broker, next, current.version())) {
                return TopicConfigWriter.Result.NONE;
            }
            Thread.onSpinWait(); // another writer changed these settings: read them again
        }
        return new TopicConfigWriter.Result(Errors.UNKNOWN_SERVER_ERROR, "gave up after 100 concurrent changes to the same broker configs; retry");
    }

    private static TopicConfigWriter.Result invalid(String message) {
        return new TopicConfigWriter.Result(Errors.INVALID_REQUEST, message);
    }
}
