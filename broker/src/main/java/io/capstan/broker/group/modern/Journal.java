package io.capstan.broker.group.modern;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.protocol.Errors;

/**
 * Where a consumer-protocol group's member changes become durable. A member is told of a change only once the change
 * is durable, and changes are appended in the order the group decided them, so what a new coordinator reads back
 * never has a partition with two holders that were both told they hold it.
 */
@FunctionalInterface
public interface Journal {
    /** Nothing kept (tests of the decisions alone). */
    Journal NONE = (group, records) -> CompletableFuture.completedFuture(Errors.NONE);

    /** Appends now, in call order, the members' new records (a null record: the member is gone); completes once durable. */
    CompletableFuture<Errors> write(String group, Map<String, byte[]> records);
}
