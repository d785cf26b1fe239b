package io.capstan.broker.kafka;

import io.netty.buffer.ByteBuf;
import org.apache.kafka.common.record.internal.MemoryRecords;

/**
 * The bytes a request arrived in, for a handler that keeps part of them past its call: a produced batch goes to the
 * log from where it arrived instead of being copied to the heap. Usable only while the handler's call runs: the frame
 * is released when it returns.
 */
public interface RequestFrame {
    /** A reference of the caller's own (to release) to the bytes of records parsed from this request. */
    ByteBuf retain(MemoryRecords records);
}
