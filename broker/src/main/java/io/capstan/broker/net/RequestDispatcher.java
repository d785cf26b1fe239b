package io.capstan.broker.net;

import io.capstan.broker.log.Backpressure;
import io.capstan.broker.quota.ResponseThrottle;
import io.capstan.broker.security.Authorizer;
import io.capstan.broker.kafka.ApiRegistry;
import io.capstan.broker.kafka.RequestContext;
import io.capstan.broker.kafka.SupportedApi;
import io.capstan.broker.kafka.ApiVersionsHandler;
import io.capstan.broker.kafka.BatchRecords;
import io.capstan.broker.trace.RequestTrace;
import io.capstan.broker.trace.RequestTracer;
import io.capstan.broker.trace.TraceDecision;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.ssl.NotSslRecordException;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.capstan.broker.security.SaslSession;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.message.SaslAuthenticateRequestData;
import org.apache.kafka.common.message.SaslHandshakeRequestData;
import org.apache.kafka.common.security.auth.KafkaPrincipal;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.concurrent.CompletionStage;
import org.apache.kafka.common.message.ApiMessageType;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.requests.RequestHeader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Per connection: parses each request frame, dispatches it to its API handler, and writes responses in request
 * order (Kafka clients require it) even when handlers finish out of order. Stops reading while too many requests
 * are unanswered, so a fast producer cannot queue unbounded work. Anything unparseable closes the connection with a
 * log line naming the peer and the reason, as Kafka does. On a SASL listener nothing but ApiVersions and the SASL
 * exchange is handled before the client has authenticated; on a TLS listener the principal is the client
 * certificate's.
 */
final class RequestDispatcher extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(RequestDispatcher.class);

    private final ApiRegistry registry;
    private final NetMetrics metrics;
    private final int maxInFlight;
    private final Backpressure backpressure;
    private final ListenerSecurity security;
    private final Authorizer authorizer;
    private final KafkaFrameDecoder frames;
    private final ResponseThrottle throttle;
    private final ConnectionSteering steering;
    private final RequestTracer tracer;
    /** Reading stopped until a quota's throttle time has passed (Kafka mutes the channel the same way). */
    private boolean pausedForThrottle;
    private final SaslSession sasl;
    private KafkaPrincipal principal = KafkaPrincipal.ANONYMOUS;
    /** The peer's address as text, for ACL host matching and the login throttle; set when the connection opens. */
    private String clientHost;
    private boolean closing;
    private final ArrayDeque<Slot> inFlight = new ArrayDeque<>();
    private boolean pausedForBackpressure;
    private ChannelHandlerContext ctx;

    /**
     * One request's place in the response order, and its moments (when its frame was read, the event-loop time spent
     * decoding and handling it, what request_percentage quotas count, and when its response was ready, before waiting
     * for the requests ahead of it), which its metrics and, if it is traced, its spans are made of.
     */
    private static final class Slot extends RequestTrace {
        ApiKeys api;
        int requestBytes;
        String clientId;
        ByteBuf response;
        boolean done;
        /** The handler's answer while it is on its way: cancelled if the connection closes first (a parked fetch lets go). */
        CompletionStage<ApiMessage> pending;
    }

    RequestDispatcher(ApiRegistry registry, NetMetrics metrics, int maxInFlight, Backpressure backpressure,
                      ListenerSecurity security, KafkaFrameDecoder frames, Authorizer authorizer, ResponseThrottle throttle,
                      ConnectionSteering steering, RequestTracer tracer) {
        this.authorizer = authorizer;
        this.tracer = tracer;
        this.steering = steering;
        this.throttle = throttle;
        this.registry = registry;
        this.metrics = metrics;
        this.maxInFlight = maxInFlight;
        this.backpressure = backpressure;
        this.security = security;
        this.frames = frames;
        this.sasl = security.sasl() == null ? null : new SaslSession(security.sasl(), security.mechanisms(), System::currentTimeMillis);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
        if (event instanceof SslHandshakeCompletionEvent done) {
            if (!done.isSuccess()) {
                metrics.authenticationFailed(security.listener().name(), "tls");
                log.info("TLS handshake with {} on listener {} failed: {}", ctx.channel().remoteAddress(),
                        security.listener().name(), rootMessage(done.cause()));
            } else if (sasl == null) {
                try {
                    principal = security.tlsPrincipals().of(ctx.pipeline().get(SslHandler.class).engine().getSession());
                    metrics.authenticated(security.listener().name(), "tls");
                } catch (IllegalArgumentException e) {
                    metrics.authenticationFailed(security.listener().name(), "tls");
                    log.warn("closing TLS connection from {}: {}", ctx.channel().remoteAddress(), e.getMessage());
                    ctx.close();
                }
            }
        }
        ctx.fireUserEventTriggered(event);
    }

    private static String rootMessage(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getMessage() == null ? root.toString() : root.getMessage();
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.clientHost = ctx.channel().remoteAddress() instanceof InetSocketAddress a && a.getAddress() != null
                ? a.getAddress().getHostAddress() : String.valueOf(ctx.channel().remoteAddress());
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
            if (s.pending != null) {
                s.pending.toCompletableFuture().cancel(false);
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
        if (closing) {
            return;
        }
        long began = System.nanoTime();
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
        if (sasl != null && !sasl.allows(api.key())) {
            metrics.authenticationFailed(security.listener().name(), sasl.expired() ? "expired" : "unauthenticated");
            reject(sasl.expired() ? api.key() + " after the SASL session expired (connections.max.reauth.ms); the client must re-authenticate"
                    : api.key() + " before SASL authentication completed on listener " + security.listener().name()
                    + "; configure the client with security.protocol " + security.listener().protocol() + " and a sasl.mechanism");
            return;
        }
        if (!api.supports(version)) {
            if (api.key() == ApiKeys.API_VERSIONS) {
                // KIP-511: answer in v0 with our ranges so the client can retry with a version we speak
                int correlationId = frame.getInt(frame.readerIndex() + 4);
                Slot slot = enqueue(api.key(), size, began);
                complete(slot, ResponseEncoder.encode(ctx.alloc(), correlationId, (short) 0,
                        ApiVersionsHandler.unsupportedVersion(registry), (short) 0));
                return;
            }
            reject(api.key() + " version " + version + " is not supported (supported: " + api.minVersion() + "-"
                    + api.maxVersion() + "); upgrade or downgrade the client");
            return;
        }
        FrameReader reader = FrameReader.of(frame);
        RequestHeader header;
        ApiMessage request;
        try {
            header = RequestHeader.parse(reader.buffer());
            request = ApiMessageType.fromApiKey(apiKey).newRequest();
            request.read(reader, version);
        } catch (RuntimeException e) {
            reject("malformed " + api.key() + " v" + version + " request: " + e.getMessage());
            return;
        }
        Slot slot = enqueue(api.key(), size, began);
        if (sasl != null && (api.key() == ApiKeys.SASL_HANDSHAKE || api.key() == ApiKeys.SASL_AUTHENTICATE)) {
            authenticate(slot, header, request);
            return;
        }
        RequestTrace trace = null;
        if (tracer.enabled()) {
            slot.clientId = header.clientId();
            trace = slot;
        }
        RequestContext context = new RequestContext(header, ctx.channel().remoteAddress(), clientHost, ctx.executor(), principal,
                security.listener().name(), authorizer, reader, trace);
        CompletionStage<ApiMessage> response;
        try {
            response = api.handler().handle(context, request);
        } catch (RuntimeException e) {
            log.error("{} handler failed for {}; closing the connection", api.key(), ctx.channel().remoteAddress(), e);
            metrics.internalError("handler");
            ctx.close();
            return;
        }
        slot.handleNanos = System.nanoTime() - began;
        slot.pending = response;
        if (backpressure.overloaded() && !pausedForBackpressure) {
            // the log is behind: stop reading this connection until it catches up
            pausedForBackpressure = true;
            ctx.channel().config().setAutoRead(false);
            backpressure.whenRelieved(() -> ctx.executor().execute(this::resumeAfterBackpressure));
        }
        response.whenComplete((body, error) -> {
            if (ctx.executor().inEventLoop()) {
                throttleThenRespond(slot, header, request, body, error);
            } else {
                ctx.executor().execute(() -> throttleThenRespond(slot, header, request, body, error));
            }
        });
    }

    /** The SASL exchange changes this connection's state, so it is answered here rather than by a shared handler. */
    private void authenticate(Slot slot, RequestHeader header, ApiMessage request) {
        SaslSession.Reply<? extends ApiMessage> reply = header.apiKey() == ApiKeys.SASL_HANDSHAKE
                ? sasl.handshake((SaslHandshakeRequestData) request, header.apiVersion())
                : sasl.authenticate((SaslAuthenticateRequestData) request, header.apiVersion());
        String listener = security.listener().name();
        if (reply.authenticatedNow()) {
            security.throttle().succeeded(clientHost);
            principal = sasl.principal();
            frames.authenticated();
            metrics.authenticated(listener, sasl.mechanism());
        }
        if (!reply.closeAfter()) {
            respond(slot, header, reply.response(), null);
            return;
        }
        closing = true;
        ctx.channel().config().setAutoRead(false);
        boolean failedCredentials = header.apiKey() == ApiKeys.SASL_AUTHENTICATE;
        metrics.authenticationFailed(listener, sasl.mechanism() == null ? "handshake" : sasl.mechanism());
        log.info("authentication of {} on listener {} failed ({}); closing the connection", ctx.channel().remoteAddress(), listener,
                header.apiKey() == ApiKeys.SASL_HANDSHAKE ? "handshake refused"
                        : sasl.failureReason() != null ? sasl.failureReason() : "SASL state");
        // a failed login is answered late (Kafka's connection.failed.authentication.delay.ms), later still for an
        // address that keeps failing, so guessing passwords is slow; the connection reads nothing meanwhile
        long delay = failedCredentials ? security.throttle().failed(clientHost) : 0;
        ctx.executor().schedule(() -> {
            respond(slot, header, reply.response(), null);
            ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        }, delay, TimeUnit.MILLISECONDS);
    }

    private void throttleThenRespond(Slot slot, RequestHeader header, ApiMessage request, ApiMessage body, Throwable error) {
        if (error == null) {
            long ms = throttle.apply(header.apiKey(), header.apiVersion(), principal.getName(), header.clientId(), slot.requestBytes,
                    slot.handleNanos, request, body);
            if (ms > 0) {
                metrics.throttled(header.apiKey(), ms);
            }
            if (ms > 0 && !pausedForThrottle && !closing) {
                pausedForThrottle = true;
                ctx.channel().config().setAutoRead(false);
                ctx.executor().schedule(this::resumeAfterThrottle, ms, TimeUnit.MILLISECONDS);
            }
        }
        respond(slot, header, body, error);
    }

    private void resumeAfterThrottle() {
        pausedForThrottle = false;
        resumeIfIdle();
    }

    private Slot enqueue(ApiKeys api, int size, long began) {
        Slot slot = new Slot();
        slot.startNanos = began;
        slot.api = api;
        slot.requestBytes = size;
        inFlight.add(slot);
        if (inFlight.size() >= maxInFlight) {
            ctx.channel().config().setAutoRead(false);
        }
        return slot;
    }

    private void respond(Slot slot, RequestHeader header, ApiMessage body, Throwable error) {
        try {
            encodeAndComplete(slot, header, body, error);
        } finally {
            if (body instanceof FetchResponseData fetch) {
                BatchRecords.releaseAll(fetch); // written into the frame, or never to be: the log's buffers go back
            }
        }
    }

    private void encodeAndComplete(Slot slot, RequestHeader header, ApiMessage body, Throwable error) {
        if (!ctx.channel().isActive()) {
            return;
        }
        if (error != null) {
            log.error("{} request from {} failed; closing the connection", header.apiKey(), ctx.channel().remoteAddress(), error);
            metrics.internalError("handler");
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
            metrics.internalError("encode");
            ctx.close();
            return;
        }
        complete(slot, encoded);
    }

    private void complete(Slot slot, ByteBuf response) {
        slot.readyNanos = System.nanoTime();
        slot.response = response;
        slot.done = true;
        boolean wrote = false;
        while (!inFlight.isEmpty() && inFlight.peek().done) {
            Slot head = inFlight.poll();
            long now = System.nanoTime();
            int responseBytes = head.response == null ? 0 : head.response.readableBytes();
            // Kafka's request phases: local (this thread decoding and handling), remote (waiting for the log, replicas or
            // a parked fetch), response queue (answered, waiting behind earlier requests of the connection)
            long remote = Math.max(0, head.readyNanos - head.startNanos - head.handleNanos);
            metrics.request(head.api, now - head.startNanos, head.handleNanos, remote, now - head.readyNanos, head.requestBytes, responseBytes);
            if (tracer.enabled()) {
                TraceDecision decision = tracer.decide(head, now);
                if (decision.kept()) {
                    tracer.export(head.api.name, head, now, decision, new RequestTracer.Peer(security.listener().name(), clientHost,
                            head.clientId, head.requestBytes, responseBytes));
                }
            }
            if (head.response != null) {
                ctx.write(head.response, ctx.voidPromise());
                wrote = true;
            }
            if (steering.closeAfter(head.api)) {
                closeAfterWriting(head.api);
                return;
            }
        }
        if (wrote) {
            ctx.flush();
        }
        resumeIfIdle();
    }

    /** The requests behind this one go unanswered: the client sees a disconnect, retries them, and re-reads metadata. */
    private void closeAfterWriting(ApiKeys api) {
        closing = true;
        ctx.channel().config().setAutoRead(false);
        metrics.closedByBroker("broker.lease.ms");
        log.debug("closing the connection from {} after answering {}: this broker's lease ran out, so its metadata may be stale",
                ctx.channel().remoteAddress(), api);
        ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }

    private void resumeAfterBackpressure() {
        pausedForBackpressure = false;
        resumeIfIdle();
    }

    private void resumeIfIdle() {
        if (inFlight.size() < maxInFlight && !pausedForBackpressure && !pausedForThrottle && !closing && !ctx.channel().config().isAutoRead()) {
            ctx.channel().config().setAutoRead(true);
        }
    }

    private void reject(String reason) {
        closing = true;
        metrics.rejectedFrame(reason);
        log.warn("closing connection from {}: {}", ctx.channel().remoteAddress(), reason);
        ctx.close();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (closing) {
            return; // already explained and closing; the decoder may report the same bad bytes again
        }
        Throwable c = cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause;
        if (c instanceof NotSslRecordException) {
            // counted as a failed handshake by the completion event
            reject("not a TLS record on TLS listener " + security.listener().name()
                    + ": the client must use security.protocol " + security.listener().protocol());
        } else if (c instanceof TooLongFrameException || c instanceof CorruptedFrameException) {
            reject("bad frame: " + c.getMessage());
        } else if (c instanceof javax.net.ssl.SSLException) {
            log.debug("TLS error on connection from {}: {}", ctx.channel().remoteAddress(), c.toString());
            ctx.close();
        } else if (cause instanceof IOException) {
            log.debug("connection from {} failed: {}", ctx.channel().remoteAddress(), cause.toString());
            ctx.close();
        } else {
            log.error("unexpected error on connection from {}; closing it", ctx.channel().remoteAddress(), cause);
            metrics.internalError("pipeline");
            ctx.close();
        }
    }
}
