package io.capstan.e2e;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.List;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.MetadataRequest;
import org.apache.kafka.common.requests.MetadataResponse;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.requests.ResponseHeader;

/**
 * Asks one particular broker what its metadata says about a shard (a Kafka Metadata request on a plain socket; an
 * Admin client would ask whichever broker it likes). What a broker answers is what its clients act on.
 */
final class MetadataProbe implements AutoCloseable {
    private static final short VERSION = 12;
    private final Socket socket = new Socket();
    private final DataInputStream in;
    private final DataOutputStream out;
    private int correlation;

    /** A shard's leader and leader epoch as one broker reports them (-1, -1 if it does not know the shard). */
    record Leadership(int leader, int epoch) {}

    MetadataProbe(int port) throws IOException {
        this("127.0.0.1", port);
    }

    MetadataProbe(String host, int port) throws IOException {
        socket.setTcpNoDelay(true); // one request per poll: Nagle and delayed ACKs would add 40 ms to each
        socket.connect(new InetSocketAddress(host, port), 5_000);
        socket.setSoTimeout(10_000);
        in = new DataInputStream(socket.getInputStream());
        out = new DataOutputStream(new java.io.BufferedOutputStream(socket.getOutputStream()));
    }

    Leadership leadership(String topic, int partition) throws IOException {
        MetadataRequestData data = new MetadataRequestData().setAllowAutoTopicCreation(false)
                .setTopics(List.of(new MetadataRequestData.MetadataRequestTopic().setName(topic)));
        ByteBuffer request = new MetadataRequest(data, VERSION)
                .serializeWithHeader(new RequestHeader(ApiKeys.METADATA, VERSION, "scale-probe", ++correlation));
        out.writeInt(request.remaining());
        out.write(request.array(), request.arrayOffset() + request.position(), request.remaining());
        out.flush();
        byte[] bytes = new byte[in.readInt()];
        in.readFully(bytes);
        ByteBuffer response = ByteBuffer.wrap(bytes);
        ResponseHeader.parse(response, ApiKeys.METADATA.responseHeaderVersion(VERSION));
        MetadataResponseData answer = ((MetadataResponse) AbstractResponse.parseResponse(ApiKeys.METADATA, new org.apache.kafka.common.protocol.ByteBufferAccessor(response), VERSION)).data();
        for (MetadataResponseData.MetadataResponseTopic t : answer.topics()) {
            for (MetadataResponseData.MetadataResponsePartition p : t.partitions()) {
                if (t.name().equals(topic) && p.partitionIndex() == partition) {
                    return new Leadership(p.leaderId(), p.leaderEpoch());
                }
            }
        }
        return new Leadership(-1, -1);
    }

    /** True if the broker closed this connection (end of stream or reset) within the read timeout. */
    boolean closedByBroker() throws IOException {
        try {
            return in.read() == -1;
        } catch (java.net.SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true;
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
