package io.capstan.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A journal whose last record a SIGKILL cut short (found by the 25-minute soak): that write never happened, so it is skipped. */
class PowerLossJournalTest {
    @TempDir
    Path dir;

    @Test
    void aRecordCutShortAtTheEndIsNotAWrite() throws Exception {
        Path data = Files.createDirectories(dir.resolve("data"));
        Files.writeString(data.resolve("f"), "kept");
        Path journal = dir.resolve("journal");
        byte[] torn = new byte[11];
        torn[0] = 'W'; // a write record: type, then 40 bytes of header and the old bytes; only 10 of them got written
        Files.write(journal, torn);
        PowerLoss.Cut cut = new PowerLoss(dir.resolve("unused.so"), data, journal).cut();
        assertThat(cut.writesUndone()).isZero();
        assertThat(Files.readString(data.resolve("f"))).isEqualTo("kept");
        assertThat(journal).doesNotExist();
    }
}
