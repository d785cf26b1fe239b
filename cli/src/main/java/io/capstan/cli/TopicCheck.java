package io.capstan.cli;

import java.util.List;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

/**
 * Before producing or consuming: does the topic exist? One admin call bounded by --timeout, so a missing topic is one
 * line saying how to create it, and a wrong address one line saying which address did not answer, instead of a
 * client that retries and warns every second.
 */
final class TopicCheck {
    private TopicCheck() {}

    /**
     * Fails with a {@link UserError} unless {@code topic} exists, or (with {@code autoCreateAllowed}, for a producer) the
     * broker creates topics on first use (auto.create.topics.enable).
     */
    static void require(ClientOptions client, String topic, boolean autoCreateAllowed) throws InterruptedException, ExecutionException {
        try (Admin admin = Admin.create(client.props())) {
            try {
                admin.describeTopics(List.of(topic)).allTopicNames().get();
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof UnknownTopicOrPartitionException)) {
                    throw e;
                }
                if (autoCreateAllowed && brokerCreatesTopics(admin)) {
                    return;
                }
                throw new UserError("topic " + topic + " does not exist at " + client.bootstrap + " (create it: capstan topic create "
                        + topic + " --partitions 3 -b " + client.bootstrap + "; see what exists: capstan topic list -b " + client.bootstrap + ")");
            }
        }
    }

    private static boolean brokerCreatesTopics(Admin admin) throws InterruptedException, ExecutionException {
        String node = admin.describeCluster().nodes().get().iterator().next().idString();
        ConfigResource broker = new ConfigResource(ConfigResource.Type.BROKER, node);
        var entry = admin.describeConfigs(List.of(broker)).all().get().get(broker).get("auto.create.topics.enable");
        return entry != null && "true".equalsIgnoreCase(entry.value());
    }
}
