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
    private final DataInputStream in;
    private final DataOutputStream out;
    private final String clientId;
    private int correlationId;

    LeaderConnection(InterBrokerTransport transport, String host, int port, int timeoutMs, String clientId) throws IOException {
        this.clientId = clientId;
        socket = transport.open(host, port, timeoutMs);
        try {
            in = new DataInputStream(new java.io.BufferedInputStream(socket.getInputStream(), 1 << 16));
            out = new DataOutputStream(new java.io.BufferedOutputStream(socket.getOutputStream(), 1 << 16));
            transport.authenticate(this);
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }

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

        byte[] bytes = new byte[in.readInt()];
        in.readFully(bytes);
        ByteBufferAccessor reader = new ByteBufferAccessor(ByteBuffer.wrap(bytes));
        ResponseHeaderData responseHeader = new ResponseHeaderData(reader, api.responseHeaderVersion(version));
        if (responseHeader.correlationId() != id) {
            throw new IOException("the leader answered request " + responseHeader.correlationId() + " when " + id + " was expected");
        }
        ApiMessage response = ApiMessageType.fromApiKey(api.id).newResponse();
        response.read(reader, version);
        return (T) response;
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
