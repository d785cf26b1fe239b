package io.capstan.broker.net;

import io.capstan.broker.kafka.ApiRegistry;
import io.capstan.broker.kafka.RequestContext;
import io.capstan.broker.kafka.SupportedApi;
import io.capstan.broker.kafka.ApiVersionsHandler;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.TooLongFrameException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.concurrent.CompletionStage;
import org.apache.kafka.common.message.ApiMessageType;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.requests.RequestHeader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Per connection: parses each request frame, dispatches it to its API handler, and writes responses in request
 * order (Kafka clients require it) even when handlers finish out of order. Stops reading while too many requests
 * are unanswered, so a fast producer cannot queue unbounded work. Anything unparseable closes the connection with a
 * log line naming the peer and the reason, as Kafka does.
 */
final class RequestDispatcher extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(RequestDispatcher.class);

    private final ApiRegistry registry;
    private final NetMetrics metrics;
    private final int maxInFlight;
    private final Backpressure backpressure;
    private final ArrayDeque<Slot> inFlight = new ArrayDeque<>();
    private boolean pausedForBackpressure;
    private ChannelHandlerContext ctx;

    /** One request's place in the response order. */
    private static final class Slot {
        final long startNanos = System.nanoTime();
        ApiKeys api;
        int requestBytes;
        ByteBuf response;
        boolean done;
    }

    RequestDispatcher(ApiRegistry registry, NetMetrics metrics, int maxInFlight, Backpressure backpressure) {
        this.registry = registry;
        this.metrics = metrics;
        this.maxInFlight = maxInFlight;
        this.backpressure = backpressure;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        metrics.connectionOpened();
        ctx.fireChannelActive();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        metrics.connectionClosed();
        Slot s;
        while ((s = inFlight.poll()) != null) {
            if (s.response != null) {
                s.response.release();
            }
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf frame = (ByteBuf) msg;
        try {
            dispatch(frame);
        } finally {
            frame.release();
        }
    }

    private void dispatch(ByteBuf frame) {
        int size = frame.readableBytes();
        if (size < 8) {
            reject("frame of " + size + " bytes is too short for a request header");
            return;
        }
        short apiKey = frame.getShort(frame.readerIndex());
        short version = frame.getShort(frame.readerIndex() + 2);
        if (!ApiKeys.hasId(apiKey) || registry.get(ApiKeys.forId(apiKey)) == null) {
            reject("unknown or unsupported API key " + apiKey + " (this broker implements the APIs listed in docs/compatibility.md)");
            return;
        }
        SupportedApi api = registry.get(ApiKeys.forId(apiKey));
        if (!api.supports(version)) {
            if (api.key() == ApiKeys.API_VERSIONS) {
                // KIP-511: answer in v0 with our ranges so the client can retry with a version we speak
                int correlationId = frame.getInt(frame.readerIndex() + 4);
                Slot slot = enqueue(api.key(), size);
                complete(slot, ResponseEncoder.encode(ctx.alloc(), correlationId, (short) 0,
                        ApiVersionsHandler.unsupportedVersion(registry), (short) 0));
                return;
            }
            reject(api.key() + " version " + version + " is not supported (supported: " + api.minVersion() + "-"
                    + api.maxVersion() + "); upgrade or downgrade the client");
            return;
        }
        ByteBuffer buffer = frame.nioBuffer();
        RequestHeader header;
        ApiMessage request;
        try {
            header = RequestHeader.parse(buffer);
            request = ApiMessageType.fromApiKey(apiKey).newRequest();
            request.read(new ByteBufferAccessor(buffer), version);
        } catch (RuntimeException e) {
            reject("malformed " + api.key() + " v" + version + " request: " + e.getMessage());
            return;
        }
        Slot slot = enqueue(api.key(), size);
        RequestContext context = new RequestContext(header, ctx.channel().remoteAddress(), ctx.executor());
        CompletionStage<ApiMessage> response;
        try {
            response = api.handler().handle(context, request);
        } catch (RuntimeException e) {
            log.error("{} handler failed for {}; closing the connection", api.key(), ctx.channel().remoteAddress(), e);
            ctx.close();
            return;
        }
        if (backpressure.overloaded() && !pausedForBackpressure) {
            // the log is behind: stop reading this connection until it catches up
            pausedForBackpressure = true;
            ctx.channel().config().setAutoRead(false);
            backpressure.whenRelieved(() -> ctx.executor().execute(this::resumeAfterBackpressure));
        }
        response.whenComplete((body, error) -> {
            if (ctx.executor().inEventLoop()) {
                respond(slot, header, body, error);
            } else {
                ctx.executor().execute(() -> respond(slot, header, body, error));
            }
        });
    }

    private Slot enqueue(ApiKeys api, int size) {
        Slot slot = new Slot();
        slot.api = api;
        slot.requestBytes = size;
        inFlight.add(slot);
        if (inFlight.size() >= maxInFlight) {
            ctx.channel().config().setAutoRead(false);
        }
        return slot;
    }

    private void respond(Slot slot, RequestHeader header, ApiMessage body, Throwable error) {
        if (!ctx.channel().isActive()) {
            return;
        }
        if (error != null) {
            log.error("{} request from {} failed; closing the connection", header.apiKey(), ctx.channel().remoteAddress(), error);
            ctx.close();
            return;
        }
        ByteBuf encoded;
        try {
            encoded = body == null ? null
                    : ResponseEncoder.encode(ctx.alloc(), header.correlationId(), header.apiKey().responseHeaderVersion(header.apiVersion()),
                            body, header.apiVersion());
        } catch (RuntimeException e) {
            // a response this version cannot express is a broker bug; say so loudly rather than leave the client hanging
            log.error("cannot encode {} v{} response for {}; closing the connection", header.apiKey(), header.apiVersion(),
                    ctx.channel().remoteAddress(), e);
            ctx.close();
            return;
        }
        complete(slot, encoded);
    }

    private void complete(Slot slot, ByteBuf response) {
        slot.response = response;
        slot.done = true;
        boolean wrote = false;
        while (!inFlight.isEmpty() && inFlight.peek().done) {
            Slot head = inFlight.poll();
            long nanos = System.nanoTime() - head.startNanos;
            int responseBytes = head.response == null ? 0 : head.response.readableBytes();
            metrics.request(head.api, nanos, head.requestBytes, responseBytes);
            if (head.response != null) {
                ctx.write(head.response, ctx.voidPromise());
                wrote = true;
            }
        }
        if (wrote) {
            ctx.flush();
        }
        if (inFlight.size() < maxInFlight && !pausedForBackpressure && !ctx.channel().config().isAutoRead()) {
            ctx.channel().config().setAutoRead(true);
        }
    }

    private void resumeAfterBackpressure() {
        pausedForBackpressure = false;
        if (inFlight.size() < maxInFlight) {
            ctx.channel().config().setAutoRead(true);
        }
    }

    private void reject(String reason) {
        metrics.rejectedFrame(reason);
        log.warn("closing connection from {}: {}", ctx.channel().remoteAddress(), reason);
        ctx.close();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof TooLongFrameException || cause instanceof CorruptedFrameException) {
            reject("bad frame: " + cause.getMessage() + " (limit socket.request.max.bytes)");
        } else if (cause instanceof IOException) {
            log.debug("connection from {} failed: {}", ctx.channel().remoteAddress(), cause.toString());
            ctx.close();
        } else {
            log.error("unexpected error on connection from {}; closing it", ctx.channel().remoteAddress(), cause);
            ctx.close();
        }
    }
}
