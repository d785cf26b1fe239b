package io.capstan.broker.security;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class LoginThrottleTest {
    final AtomicLong now = new AtomicLong(1_000_000);
    final LoginThrottle throttle = new LoginThrottle(100, now::get);

    @Test
    void repeatedFailuresFromOneAddressWaitLongerUpToACap() {
        assertThat(throttle.failed("10.0.0.1")).isEqualTo(100);
        assertThat(throttle.failed("10.0.0.1")).isEqualTo(200);
        assertThat(throttle.failed("10.0.0.1")).isEqualTo(400);
        for (int i = 0; i < 20; i++) {
            throttle.failed("10.0.0.1");
        }
        assertThat(throttle.failed("10.0.0.1")).isEqualTo(LoginThrottle.MAX_DELAY_MS);
        assertThat(throttle.failed("10.0.0.2")).as("other addresses are not slowed").isEqualTo(100);
    }

    @Test
    void aSuccessOrAQuietMinuteStartsOver() {
        throttle.failed("a");
        throttle.failed("a");
        throttle.succeeded("a");
        assertThat(throttle.failed("a")).isEqualTo(100);
        throttle.failed("a");
        now.addAndGet(LoginThrottle.WINDOW_MS + 1);
        assertThat(throttle.failed("a")).isEqualTo(100);
    }

    @Test
    void memoryIsBoundedWhateverTheNumberOfAddresses() {
        for (int i = 0; i < LoginThrottle.MAX_ADDRESSES * 2; i++) {
            throttle.failed("10." + (i >> 16) + "." + ((i >> 8) & 255) + "." + (i & 255));
        }
        assertThat(throttle.remembered()).isEqualTo(LoginThrottle.MAX_ADDRESSES);
    }

    @Test
    void noDelayConfiguredMeansNoDelay() {
        LoginThrottle none = new LoginThrottle(0, now::get);
        none.failed("a");
        assertThat(none.failed("a")).isZero();
    }
}
