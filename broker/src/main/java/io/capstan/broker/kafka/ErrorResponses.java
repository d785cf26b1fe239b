package io.capstan.broker.kafka;

import java.nio.ByteBuffer;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.protocol.ObjectSerializationCache;
import org.apache.kafka.common.requests.AbstractRequest;

/**
 * A whole request refused with one error, in the shape the Kafka client library itself builds for that request and
 * version, so every client decodes it as it would Kafka's.
 */
public final class ErrorResponses {
    private ErrorResponses() {}

    public static ApiMessage of(ApiKeys api, short version, ApiMessage request, Errors error) {
        ObjectSerializationCache cache = new ObjectSerializationCache();
        ByteBuffer buf = ByteBuffer.allocate(request.size(cache, version));
        request.write(new ByteBufferAccessor(buf), cache, version);
        buf.flip();
        AbstractRequest parsed = AbstractRequest.parseRequest(api, version, new ByteBufferAccessor(buf)).request;
        return parsed.getErrorResponse(0, error.exception()).data();
    }
}
