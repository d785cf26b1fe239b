package io.capstan.broker;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import org.apache.kafka.common.message.ApiMessageType;
import org.apache.kafka.common.message.ResponseHeaderData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.ObjectSerializationCache;
import org.apache.kafka.common.requests.RequestHeader;

/** A bare TCP connection speaking Kafka frames, for sending exactly the bytes a test needs (valid or not). */
final class RawKafkaConnection implements AutoCloseable {
    private final Socket socket;
    private final DataInputStream in;
    private final DataOutputStream out;
    private int correlationId;

    RawKafkaConnection(int port) throws IOException {
        socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout(30_000);
        in = new DataInputStream(socket.getInputStream());
        out = new DataOutputStream(socket.getOutputStream());
    }

    /** Serializes a request with its header exactly as a client would. */
    static byte[] frameBody(ApiKeys api, short version, int correlationId, ApiMessage body) {
        RequestHeader header = new RequestHeader(api, version, "raw-test", correlationId);
        ObjectSerializationCache cache = new ObjectSerializationCache();
        short hv = header.headerVersion();
        int size = header.data().size(cache, hv) + body.size(cache, version);
        ByteBuffer buf = ByteBuffer.allocate(size);
        ByteBufferAccessor acc = new ByteBufferAccessor(buf);
        header.data().write(acc, cache, hv);
        body.write(acc, cache, version);
        return buf.array();
    }

    @SuppressWarnings("unchecked")
    <T extends ApiMessage> T send(ApiKeys api, short version, ApiMessage body) throws IOException {
        int id = ++correlationId;
        sendRaw(frameBody(api, version, id, body));
        return (T) receive(api, version, id);
    }

    void sendRaw(byte[] frame) throws IOException {
        out.writeInt(frame.length);
        out.write(frame);
        out.flush();
    }

    void sendBytes(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    ApiMessage receive(ApiKeys api, short version, int expectedCorrelationId) throws IOException {
        return receive(api, version, api.responseHeaderVersion(version), expectedCorrelationId);
    }

    ApiMessage receive(ApiKeys api, short version, short headerVersion, int expectedCorrelationId) throws IOException {
        int size = in.readInt();
        byte[] bytes = new byte[size];
        in.readFully(bytes);
        ByteBufferAccessor acc = new ByteBufferAccessor(ByteBuffer.wrap(bytes));
        ResponseHeaderData header = new ResponseHeaderData(acc, headerVersion);
        if (header.correlationId() != expectedCorrelationId) {
            throw new IllegalStateException("correlation id " + header.correlationId() + " != " + expectedCorrelationId);
        }
        ApiMessage response = ApiMessageType.fromApiKey(api.id).newResponse();
        response.read(acc, version);
        return response;
    }

    /** True when the broker answers an ApiVersions on this connection (false: it refused or closed it). */
    boolean serves() {
        try {
            org.apache.kafka.common.message.ApiVersionsResponseData r = send(ApiKeys.API_VERSIONS, (short) 3,
                    new org.apache.kafka.common.message.ApiVersionsRequestData().setClientSoftwareName("raw-test").setClientSoftwareVersion("1"));
            return r.errorCode() == org.apache.kafka.common.protocol.Errors.NONE.code();
        } catch (IOException e) {
            return false;
        }
    }

    /** True when the broker closed the connection (EOF) within the socket timeout. */
    boolean closedByBroker() throws IOException {
        try {
            return in.read() == -1;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true; // connection reset
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
