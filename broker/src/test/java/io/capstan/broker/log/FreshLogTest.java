package io.capstan.broker.log;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A new store stays "fresh" across restarts until the broker has handed over what it held no records for. */
class FreshLogTest {
    @TempDir
    Path dir;

    @Test
    void aNewLogIsFreshUntilHandledEvenAcrossARestart() {
        try (LogStore store = new LogStore(dir, 1 << 20, 1 << 20)) {
            assertThat(store.freshLog()).as("just created").isTrue();
        }
        try (LogStore store = new LogStore(dir, 1 << 20, 1 << 20)) {
            assertThat(store.freshLog()).as("reopened before the hand-over (a crash in between)").isTrue();
            store.freshLogHandled();
            assertThat(store.freshLog()).isFalse();
        }
        try (LogStore store = new LogStore(dir, 1 << 20, 1 << 20)) {
            assertThat(store.freshLog()).as("reopened after the hand-over").isFalse();
        }
    }
}
