package io.capstan.broker.net;

import io.capstan.broker.log.Backpressure;
import io.capstan.broker.quota.ResponseThrottle;
import io.capstan.broker.kafka.ApiRegistry;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.capstan.config.Listener;
import io.capstan.broker.security.Authorizer;
import java.net.InetSocketAddress;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Kafka listeners: one server socket per listener (PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL), sharing one set of
 * event loops, native epoll when available (NIO otherwise), one pipeline per connection: TLS when the listener has
 * it, flush consolidation, framing, dispatch.
 */
public final class KafkaServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(KafkaServer.class);
    private static final int MAX_IN_FLIGHT_PER_CONNECTION = 64;

    private final EventLoopGroup boss;
    private final EventLoopGroup workers;
    private final Map<String, Channel> channels = new LinkedHashMap<>();
    private final boolean epoll;

    private final ConnectionLimiter limiter;
    private final long idleMs;

    public KafkaServer(List<ListenerSecurity> listeners, int maxFrameBytes, ApiRegistry registry, NetMetrics metrics, Backpressure backpressure,
                       Authorizer authorizer, java.util.function.Supplier<io.capstan.config.BrokerConfig.Limits> limits, ResponseThrottle throttle,
                       ConnectionSteering steering, io.capstan.broker.trace.RequestTracer tracer) {
        limiter = new ConnectionLimiter(limits, metrics);
        idleMs = limits.get().connectionsMaxIdleMs();
        epoll = Epoll.isAvailable();
        IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        Class<? extends ServerChannel> channelType = epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
        boss = new MultiThreadIoEventLoopGroup(1, io);
        workers = new MultiThreadIoEventLoopGroup(io);
        try {
            for (ListenerSecurity listener : listeners) {
                channels.put(listener.listener().name(), bind(listener, channelType, maxFrameBytes, registry, metrics, backpressure, authorizer, throttle, steering, tracer));
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private Channel bind(ListenerSecurity security, Class<? extends ServerChannel> channelType, int maxFrameBytes,
                         ApiRegistry registry, NetMetrics metrics, Backpressure backpressure, Authorizer authorizer,
                         ResponseThrottle throttle, ConnectionSteering steering, io.capstan.broker.trace.RequestTracer tracer) {
        Listener listener = security.listener();
        int preAuthLimit = security.sasl() == null ? maxFrameBytes : security.sasl().maxReceiveSize();
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(boss, workers)
                .channel(channelType)
                .option(ChannelOption.SO_BACKLOG, 1024)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.SO_KEEPALIVE, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast("idle", new io.netty.handler.timeout.IdleStateHandler(0, 0, idleMs, TimeUnit.MILLISECONDS))
                                .addLast("limits", limiter);
                        if (security.tls() != null) {
                            ch.pipeline().addLast("tls", security.tls().current().newHandler(ch.alloc()));
                        }
                        KafkaFrameDecoder frames = new KafkaFrameDecoder(maxFrameBytes, preAuthLimit);
                        ch.pipeline()
                                .addLast("flush", new FlushConsolidationHandler(256, true))
                                .addLast("frames", frames)
                                .addLast("dispatch", new RequestDispatcher(registry, metrics, MAX_IN_FLIGHT_PER_CONNECTION, backpressure,
                                        security, frames, authorizer, throttle, steering, tracer));
                    }
                });
        Channel channel;
        try {
            channel = bootstrap.bind(listener.host(), listener.port()).sync().channel();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while binding " + listener.host() + ":" + listener.port(), e);
        } catch (Exception e) {
            throw new IllegalStateException("cannot listen on " + listener.host() + ":" + listener.port() + " (listener " + listener.name()
                    + "): " + e.getMessage() + " (is another broker running? change the port in listeners or listener.port)", e);
        }
        log.info("Kafka listener {} ({}) on {} ({} transport{})", listener.name(), listener.protocol(), channel.localAddress(),
                epoll ? "epoll" : "NIO", security.tls() == null ? "" : ", TLS by " + io.capstan.broker.security.TlsContexts.provider());
        return channel;
    }

    /** The port of the first listener. */
    public int port() {
        return channels.values().iterator().next().localAddress() instanceof InetSocketAddress a ? a.getPort() : -1;
    }

    public int port(String listener) {
        Channel channel = channels.get(listener);
        if (channel == null) {
            throw new IllegalArgumentException("no listener named " + listener + "; listeners are " + channels.keySet());
        }
        return ((InetSocketAddress) channel.localAddress()).getPort();
    }

    @Override
    public void close() {
        channels.values().forEach(c -> c.close().syncUninterruptibly());
        boss.shutdownGracefully(0, 2, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
        workers.shutdownGracefully(0, 2, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    }
}
