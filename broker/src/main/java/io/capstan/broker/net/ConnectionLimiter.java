package io.capstan.broker.net;

import io.capstan.config.BrokerConfig;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.AttributeKey;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * max.connections and max.connections.per.ip across every listener: a connection beyond either is closed as soon as it
 * is accepted, before it can send a byte; and (after Netty's IdleStateHandler) connections.max.idle.ms: a connection
 * silent for that long is closed. One instance serves every channel of the server. Both limits are read per
 * connection: they are dynamic broker configs, and a lowered limit closes no connection already open, as in Kafka.
 */
@ChannelHandler.Sharable
final class ConnectionLimiter extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(ConnectionLimiter.class);
    private static final AttributeKey<InetAddress> COUNTED = AttributeKey.valueOf("capstan.counted-address");

    private final Supplier<BrokerConfig.Limits> limits;
    private final NetMetrics metrics;
    private final AtomicInteger open = new AtomicInteger();
    private final ConcurrentHashMap<InetAddress, AtomicInteger> perAddress = new ConcurrentHashMap<>();

    ConnectionLimiter(Supplier<BrokerConfig.Limits> limits, NetMetrics metrics) {
        this.limits = limits;
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
        BrokerConfig.Limits now = limits.get();
        if (open.incrementAndGet() > now.maxConnections()) {
            open.decrementAndGet();
            return "max.connections";
        }
        if (address != null && perAddress.computeIfAbsent(address, a -> new AtomicInteger()).incrementAndGet() > now.maxConnectionsPerIp()) {
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
