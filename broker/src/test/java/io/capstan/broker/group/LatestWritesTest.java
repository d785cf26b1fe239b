package io.capstan.broker.group;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class LatestWritesTest {
    @Test
    void aLaterWriteDecidesAndAnEarlierOrEqualOneDoesNot() {
        LatestWrites latest = new LatestWrites();
        assertThat(latest.decides("k", 10)).as("first write of the key").isTrue();
        assertThat(latest.decides("k", 12)).isTrue();
        assertThat(latest.decides("k", 11)).as("a copy standing before the write that decided").isFalse();
        assertThat(latest.decides("k", 12)).as("the same position again").isFalse();
        assertThat(latest.decides("other", 1)).as("keys are independent").isTrue();
    }
}
