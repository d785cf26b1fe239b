package io.capstan.broker.net;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.AttributeKey;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * max.connections and max.connections.per.ip across every listener: a connection beyond either is closed as soon as it
 * is accepted, before it can send a byte; and (after Netty's IdleStateHandler) connections.max.idle.ms: a connection
 * silent for that long is closed. One instance serves every channel of the server.
 */
@ChannelHandler.Sharable
final class ConnectionLimiter extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(ConnectionLimiter.class);
    private static final AttributeKey<InetAddress> COUNTED = AttributeKey.valueOf("capstan.counted-address");

    private final int maxConnections;
    private final int maxPerAddress;
    private final NetMetrics metrics;
    private final AtomicInteger open = new AtomicInteger();
    private final ConcurrentHashMap<InetAddress, AtomicInteger> perAddress = new ConcurrentHashMap<>();

    ConnectionLimiter(int maxConnections, int maxPerAddress, NetMetrics metrics) {
        this.maxConnections = maxConnections;
        this.maxPerAddress = maxPerAddress;
        this.metrics = metrics;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        InetAddress address = ctx.channel().remoteAddress() instanceof InetSocketAddress a ? a.getAddress() : null;
        String refusal = admit(address);
        if (refusal != null) {
            metrics.closedByBroker(refusal);
            log.warn("refused a connection from {}: {} reached", address == null ? "?" : address.getHostAddress(), refusal);
            ctx.close();
            return;
        }
        ctx.channel().attr(COUNTED).set(address);
        super.channelActive(ctx);
    }

    /** Null when the connection may stay (it is counted then), else the setting that refuses it. */
    private String admit(InetAddress address) {
        if (open.incrementAndGet() > maxConnections) {
            open.decrementAndGet();
            return "max.connections";
        }
        if (address != null && perAddress.computeIfAbsent(address, a -> new AtomicInteger()).incrementAndGet() > maxPerAddress) {
            release(address);
            return "max.connections.per.ip";
        }
        return null;
    }

    private void release(InetAddress address) {
        open.decrementAndGet();
        if (address != null) {
            perAddress.computeIfPresent(address, (a, n) -> n.decrementAndGet() == 0 ? null : n);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        if (ctx.channel().hasAttr(COUNTED)) {
            release(ctx.channel().attr(COUNTED).getAndSet(null));
        }
        super.channelInactive(ctx);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
        if (event instanceof IdleStateEvent idle) {
            log.info("closing {}: no bytes read or written for connections.max.idle.ms ({})", ctx.channel().remoteAddress(), idle.state());
            metrics.closedByBroker("connections.max.idle.ms");
            ctx.close();
            return;
        }
        super.userEventTriggered(ctx, event);
    }
}
