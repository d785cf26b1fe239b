package io.capstan.broker.quota;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class SampledRateTest {
    private static final int SAMPLES = 11;
    private static final long SAMPLE_MS = 1_000;

    @Test
    void underTheBoundNothingIsOwed() {
        SampledRate rate = new SampledRate(SAMPLES, SAMPLE_MS, 0);
        // 10,000 bytes over the minimum window of 10 s is 1,000 bytes/s: exactly the bound
        assertThat(rate.record(10_000, 1_000, 0)).isZero();
    }

    @Test
    void overTheBoundTheDelayBringsTheRateBackToIt() {
        SampledRate rate = new SampledRate(SAMPLES, SAMPLE_MS, 0);
        // 20,000 bytes in a 10 s window: 2,000 bytes/s against 1,000; waiting (2000-1000)/1000 * 10 s brings it to 1,000
        assertThat(rate.record(20_000, 1_000, 0)).isEqualTo(10_000);
    }

    @Test
    void theWindowIsTheTimeItCoversOnceLongerThanTheMinimum() {
        SampledRate rate = new SampledRate(SAMPLES, SAMPLE_MS, 0);
        for (long t = 0; t <= 10_500; t += 500) {
            rate.record(500, 1_000, t);
        }
        // 22 records of 500 over 10.5 s: 1,047.6 bytes/s; (1047.6 - 1000) / 1000 * 10,500 = 500 ms
        assertThat(rate.record(0, 1_000, 10_500)).isEqualTo(500);
    }

    @Test
    void samplesOlderThanTheWindowNoLongerCount() {
        SampledRate rate = new SampledRate(SAMPLES, SAMPLE_MS, 0);
        assertThat(rate.record(1_000_000, 1_000, 0)).isPositive();
        // 11 samples of 1 s later the burst has aged out
        for (long t = 1_000; t <= 11_000; t += 1_000) {
            rate.record(0, 1_000, t);
        }
        assertThat(rate.record(100, 1_000, 11_000)).isZero();
    }

    @Test
    void bytesTakenBackLowerTheRate() {
        SampledRate rate = new SampledRate(SAMPLES, SAMPLE_MS, 0);
        assertThat(rate.record(30_000, 1_000, 0)).isPositive();
        assertThat(rate.record(-30_000, 1_000, 0)).isZero();
    }
}
