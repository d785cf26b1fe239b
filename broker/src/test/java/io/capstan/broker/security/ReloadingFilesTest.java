package io.capstan.broker.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Rotation without restart: rebuilt on a content change, at most once per interval, never onto broken content. */
class ReloadingFilesTest {
    @TempDir
    Path dir;

    final AtomicLong now = new AtomicLong(1_000);
    final AtomicInteger builds = new AtomicInteger();

    private ReloadingFiles<String> reloading(Path file) {
        return new ReloadingFiles<>("test file", List.of(file), () -> {
            builds.incrementAndGet();
            try {
                String content = Files.readString(file);
                if (content.startsWith("broken")) {
                    throw new IllegalArgumentException("cannot parse " + content);
                }
                return content;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, now::get, 1_000);
    }

    @Test
    void aChangedFileIsPickedUpAtTheNextCheckAndNotBefore() throws Exception {
        Path file = Files.writeString(dir.resolve("secret"), "v1");
        ReloadingFiles<String> r = reloading(file);
        assertThat(r.current()).isEqualTo("v1");
        Files.writeString(file, "v2");
        now.addAndGet(999);
        assertThat(r.current()).as("within the interval").isEqualTo("v1");
        now.addAndGet(1);
        assertThat(r.current()).isEqualTo("v2");
        assertThat(builds).hasValue(2);
    }

    @Test
    void theSameContentWrittenAgainIsNotRebuilt() throws Exception {
        Path file = Files.writeString(dir.resolve("secret"), "v1");
        ReloadingFiles<String> r = reloading(file);
        Files.writeString(file, "v1");
        now.addAndGet(5_000);
        assertThat(r.current()).isEqualTo("v1");
        assertThat(builds).as("a timestamp change alone rebuilds nothing").hasValue(1);
    }

    @Test
    void brokenOrMissingContentKeepsThePreviousValueAndIsRetried() throws Exception {
        Path file = Files.writeString(dir.resolve("secret"), "v1");
        ReloadingFiles<String> r = reloading(file);
        Files.writeString(file, "broken half-written");
        now.addAndGet(1_000);
        assertThat(r.current()).isEqualTo("v1");
        Files.delete(file);
        now.addAndGet(1_000);
        assertThat(r.current()).isEqualTo("v1");
        Files.writeString(file, "v3");
        now.addAndGet(1_000);
        assertThat(r.current()).isEqualTo("v3");
    }

    @Test
    void unusableMaterialAtStartIsTheCallersError() throws Exception {
        Path file = Files.writeString(dir.resolve("secret"), "broken from the start");
        assertThatThrownBy(() -> reloading(file)).hasMessageContaining("cannot parse");
    }
}
