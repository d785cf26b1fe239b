package io.capstan.broker.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.broker.trace.TraceParent;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.junit.jupiter.api.Test;

/** The traceparent header of a produced batch's first record, read from batches the Kafka client's own code built. */
class TraceContextReaderTest {
    private static final String VALUE = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    private static ByteBuffer batch(Compression compression, Header[]... headersPerRecord) {
        SimpleRecord[] records = new SimpleRecord[headersPerRecord.length];
        for (int i = 0; i < records.length; i++) {
            records[i] = new SimpleRecord(1_700_000_000_000L + i, ("key-" + i).getBytes(), ("value-" + i).repeat(20).getBytes(),
                    headersPerRecord[i]);
        }
        return MemoryRecords.withRecords(compression, records).buffer();
    }

    private static Header header(String key, String value) {
        return new RecordHeader(key, value.getBytes(StandardCharsets.US_ASCII));
    }

    @Test
    void theFirstRecordsTraceparentIsFoundAmongItsHeaders() {
        ByteBuffer b = batch(Compression.NONE,
                new Header[] {header("b3", "x"), header("traceparentx", VALUE), header(TraceParent.HEADER, VALUE), header("z", "y")},
                new Header[0]);
        int position = b.position();
        assertThat(TraceContextReader.firstRecord(b)).isEqualTo(TraceParent.parse(VALUE));
        assertThat(b.position()).as("the buffer is left as it was").isEqualTo(position);
    }

    @Test
    void aBatchWhoseFirstRecordHasNoneGivesNone() {
        assertThat(TraceContextReader.firstRecord(batch(Compression.NONE, new Header[0], new Header[] {header(TraceParent.HEADER, VALUE)})))
                .as("only the first record is read").isNull();
        assertThat(TraceContextReader.firstRecord(batch(Compression.NONE, new Header[] {header(TraceParent.HEADER, "not a traceparent")})))
                .isNull();
    }

    @Test
    void aCompressedBatchIsNotDecompressedForIt() {
        assertThat(TraceContextReader.firstRecord(batch(Compression.gzip().build(), new Header[] {header(TraceParent.HEADER, VALUE)}))).isNull();
    }

    @Test
    void aTruncatedOrDamagedBatchGivesNoneRatherThanFailing() {
        ByteBuffer whole = batch(Compression.NONE, new Header[] {header(TraceParent.HEADER, VALUE)});
        for (int cut = 0; cut < whole.remaining(); cut++) {
            ByteBuffer part = whole.duplicate();
            part.limit(part.position() + cut);
            TraceParent found = TraceContextReader.firstRecord(part);
            assertThat(found == null || found.equals(TraceParent.parse(VALUE))).as("cut at %d", cut).isTrue();
        }
        ByteBuffer damaged = whole.duplicate();
        for (int i = 61; i < 70; i++) {
            damaged.put(i, (byte) 0xff); // varints that never end
        }
        assertThat(TraceContextReader.firstRecord(damaged)).isNull();
    }
}
