package io.capstan.broker.kafka;

import io.capstan.cluster.metadata.ConflictException;
import io.capstan.cluster.topics.ClusterTopics;
import java.util.Map;
import java.util.OptionalLong;
import java.util.function.Function;
import org.apache.kafka.common.protocol.Errors;

/**
 * Writes a topic's new configs to the cluster's topic record (every broker hosting it applies them from its watch) and
 * waits until this broker's view has them, so that a DescribeConfigs sent here next shows them.
 */
final class TopicConfigWriter {
    /** How long an answer waits for this broker to apply the change (the APIs carry no timeout of their own). */
    private static final long APPLY_WAIT_MS = 5_000;

    /** Kafka's answer for one resource: NONE, or the error and a message saying what to do. */
    record Result(Errors error, String message) {
        static final Result NONE = new Result(Errors.NONE, null);
    }

    private static final class Refused extends RuntimeException {
        final TopicConfigChange.Outcome outcome;

        Refused(TopicConfigChange.Outcome outcome) {
            super(outcome.message(), null, false, false);
            this.outcome = outcome;
        }
    }

    private final ClusterTopics cluster;
    private final CreateTopicsHandler.Applied applied;

    TopicConfigWriter(ClusterTopics cluster, CreateTopicsHandler.Applied applied) {
        this.cluster = cluster;
        this.applied = applied;
    }

    /** {@code change}: the topic's overrides as they are now to the outcome of the request. */
    Result write(String topic, Function<Map<String, String>, TopicConfigChange.Outcome> change, boolean validateOnly) {
        if (TopicNames.problem(topic) != null || cluster.topic(topic).isEmpty()) { // an illegal name names nothing
            return new Result(Errors.UNKNOWN_TOPIC_OR_PARTITION, "topic '" + topic + "' does not exist");
        }
        if (TopicNames.internal(topic)) {
            return new Result(Errors.INVALID_REQUEST, "the configs of Capstan's internal topic " + topic + " cannot be changed");
        }
        if (validateOnly) {
            TopicConfigChange.Outcome outcome = change.apply(cluster.topic(topic).map(t -> t.configs()).orElse(Map.of()));
            return outcome.ok() ? Result.NONE : new Result(outcome.error(), outcome.message());
        }
        try {
            OptionalLong revision = cluster.reconfigure(topic, configs -> {
                TopicConfigChange.Outcome outcome = change.apply(configs);
                if (!outcome.ok()) {
                    throw new Refused(outcome);
                }
                return outcome.configs();
            });
            if (revision.isEmpty()) {
                return new Result(Errors.UNKNOWN_TOPIC_OR_PARTITION, "topic '" + topic + "' does not exist");
            }
            applied.await(revision.getAsLong(), APPLY_WAIT_MS);
            return Result.NONE;
        } catch (Refused refused) {
            return new Result(refused.outcome.error(), refused.outcome.message());
        } catch (ConflictException | RuntimeException e) {
            return new Result(Errors.UNKNOWN_SERVER_ERROR, "the cluster metadata store did not take the change (" + e.getMessage() + "); retry");
        }
    }
}
