package io.capstan.broker.kafka;

import java.util.concurrent.CompletionStage;
import org.apache.kafka.common.protocol.ApiMessage;

/**
 * Answers one Kafka API. Called on the connection's event loop with a parsed request; returns the response body,
 * possibly later (produce waits for the group commit, fetch may long-poll). A null response means "send nothing"
 * (produce with acks=0).
 */
public interface ApiHandler {
    CompletionStage<ApiMessage> handle(RequestContext context, ApiMessage request);
}
