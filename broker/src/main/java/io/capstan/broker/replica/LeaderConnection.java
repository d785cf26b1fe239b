package io.capstan.broker.replica;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.Socket;
import java.nio.ByteBuffer;
import org.apache.kafka.common.message.ApiMessageType;
import org.apache.kafka.common.message.ResponseHeaderData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.ObjectSerializationCache;
import org.apache.kafka.common.requests.RequestHeader;

/**
 * A follower's blocking Kafka-protocol connection to one leader: one request at a time, as a replica fetcher needs
 * (it waits for each fetch anyway), over the transport the inter-broker listener needs (TLS, SASL). Uses the Kafka client's own message classes, so leaders and followers speak
 * exactly the protocol any Kafka broker would.
 */
final class LeaderConnection implements AutoCloseable {
    private final Socket socket;
    /** The TCP connection under {@link #socket} (the same socket in the clear): closing it stops a blocked read at once. */
    private final Socket tcp;
    private final DataInputStream in;
    private final DataOutputStream out;
    private final String clientId;
    private int correlationId;
    /**
     * Responses are read into this one array, grown as needed and kept: a follower's fetch responses were a fifth of a
     * replicating cluster's heap allocation when each had an array of its own. Its size is bounded by the largest
     * response, which the fetch's own limits bound (replica.fetch.response.max.bytes).
     */
    private byte[] received = new byte[1 << 16];

    LeaderConnection(InterBrokerTransport transport, String host, int port, int timeoutMs, String clientId) throws IOException {
        this.clientId = clientId;
        tcp = transport.connect(host, port, timeoutMs);
        socket = transport.secure(tcp, host, port);
        try {
            in = new DataInputStream(new java.io.BufferedInputStream(socket.getInputStream(), 1 << 16));
            out = new DataOutputStream(new java.io.BufferedOutputStream(socket.getOutputStream(), 1 << 16));
            transport.authenticate(this);
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }

    /**
     * Sends one request and reads its response. The records of a response (a fetch's batches) refer to this
     * connection's receive buffer: they are valid until the next send, so a caller copies what it keeps first.
     */
    @SuppressWarnings("unchecked")
    <T extends ApiMessage> T send(ApiKeys api, short version, ApiMessage body) throws IOException {
        int id = ++correlationId;
        RequestHeader header = new RequestHeader(api, version, clientId, id);
        ObjectSerializationCache cache = new ObjectSerializationCache();
        short headerVersion = header.headerVersion();
        int size = header.data().size(cache, headerVersion) + body.size(cache, version);
        ByteBuffer buf = ByteBuffer.allocate(size);
        ByteBufferAccessor writer = new ByteBufferAccessor(buf);
        header.data().write(writer, cache, headerVersion);
        body.write(writer, cache, version);
        out.writeInt(size);
        out.write(buf.array());
        out.flush();

        int length = in.readInt();
        if (length < 0) {
            throw new IOException("the leader sent a response of negative length " + length);
        }
        if (length > received.length) {
            received = new byte[(int) Math.min(Integer.MAX_VALUE - 8, Math.max(length, received.length * 2L))];
        }
        in.readFully(received, 0, length);
        ByteBufferAccessor reader = new ByteBufferAccessor(ByteBuffer.wrap(received, 0, length));
        ResponseHeaderData responseHeader = new ResponseHeaderData(reader, api.responseHeaderVersion(version));
        if (responseHeader.correlationId() != id) {
            throw new IOException("the leader answered request " + responseHeader.correlationId() + " when " + id + " was expected");
        }
        ApiMessage response = ApiMessageType.fromApiKey(api.id).newResponse();
        response.read(reader, version);
        return (T) response;
    }

    /**
     * Ends the connection from another thread: a {@link #send} blocked on the leader's answer fails at once with an
     * IOException. Closes the TCP socket rather than the TLS one, whose close would first try to send close_notify.
     */
    void abort() {
        try {
            tcp.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }
}
