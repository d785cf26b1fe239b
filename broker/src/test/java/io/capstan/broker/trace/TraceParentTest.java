package io.capstan.broker.trace;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TraceParentTest {
    private static final String TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
    private static final String SPAN = "00f067aa0ba902b7";

    @Test
    void aVersion00ValueGivesItsIdsAndSampledFlag() {
        assertThat(TraceParent.parse("00-" + TRACE + "-" + SPAN + "-01")).isEqualTo(new TraceParent(TRACE, SPAN, true));
        assertThat(TraceParent.parse("00-" + TRACE + "-" + SPAN + "-00")).isEqualTo(new TraceParent(TRACE, SPAN, false));
        // only the lowest flag bit is "sampled"
        assertThat(TraceParent.parse("00-" + TRACE + "-" + SPAN + "-03").sampled()).isTrue();
        assertThat(TraceParent.parse("00-" + TRACE + "-" + SPAN + "-02").sampled()).isFalse();
    }

    @Test
    void aLaterVersionIsReadForItsFirstFourFields() {
        assertThat(TraceParent.parse("01-" + TRACE + "-" + SPAN + "-01-what-comes-next")).isEqualTo(new TraceParent(TRACE, SPAN, true));
        assertThat(TraceParent.parse("01-" + TRACE + "-" + SPAN + "-01")).isEqualTo(new TraceParent(TRACE, SPAN, true));
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0",      // short
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",   // version 00 has exactly four fields
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",    // a later version's fifth field follows a dash
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",     // version ff is invalid
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",     // upper-case hex
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",     // all-zero trace id
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",     // all-zero span id
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g",     // flags not hex
            "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",     // wrong separator
            "00-4bf92f3577b34da6a3ce929d0e0e473-600f067aa0ba902b7-01",     // separator in the wrong place
            "zz-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"})    // version not hex
    void anythingElseIsNoParent(String value) {
        assertThat(TraceParent.parse(value)).isNull();
    }

    @Test
    void nullIsNoParent() {
        assertThat(TraceParent.parse(null)).isNull();
    }
}
