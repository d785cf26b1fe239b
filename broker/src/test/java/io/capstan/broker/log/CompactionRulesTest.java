package io.capstan.broker.log;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.config.BrokerConfig;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The cleaner's pure decisions: settings over defaults, when a shard is due, its clean point, and the key map's bounds. */
class CompactionRulesTest {
    private static final BrokerConfig.Cleaner DEFAULTS = BrokerConfig.defaults().cleaner();

    @Test
    void topicSettingsOverrideTheBrokersDefaults() {
        CompactionSettings plain = CompactionSettings.of(Map.of(), DEFAULTS);
        assertThat(plain).isEqualTo(new CompactionSettings(false, true, 86_400_000, 0, Long.MAX_VALUE, 0.5));
        CompactionSettings both = CompactionSettings.of(Map.of("cleanup.policy", "compact, delete", "delete.retention.ms", "5",
                "min.compaction.lag.ms", "6", "max.compaction.lag.ms", "7", "min.cleanable.dirty.ratio", "0.25"), DEFAULTS);
        assertThat(both).isEqualTo(new CompactionSettings(true, true, 5, 6, 7, 0.25));
        BrokerConfig.Cleaner compactByDefault = BrokerConfig.from(Map.of("log.cleanup.policy", "compact")).cleaner();
        assertThat(CompactionSettings.of(Map.of(), compactByDefault).compact()).isTrue();
        assertThat(CompactionSettings.of(Map.of(), compactByDefault).delete()).isFalse();
    }

    @Test
    void aShardIsDueAtTheDirtyRatioOrPastTheMaximumLag() {
        CompactionSettings s = new CompactionSettings(true, false, 0, 0, 1_000, 0.5);
        assertThat(s.due(0.5, 10_000, 10_000)).as("at the ratio").isTrue();
        assertThat(s.due(0.49, 10_000, 10_000)).as("below it, not overdue").isFalse();
        assertThat(s.due(0.1, 8_999, 10_000)).as("oldest dirty batch past max.compaction.lag.ms").isTrue();
        assertThat(s.due(0.1, 9_000, 10_000)).as("exactly at the lag").isFalse();
        assertThat(s.overdueMs(8_000, 10_000)).isEqualTo(1_000);
        assertThat(s.due(0, 0, 10_000)).as("nothing dirty is never due by ratio, but by lag").isTrue();
        assertThat(new CompactionSettings(true, false, 0, 0, Long.MAX_VALUE, 0).due(0, 0, 10_000)).as("nothing dirty").isFalse();
        assertThat(new CompactionSettings(false, true, 0, 0, 1, 0).due(1, 0, 10_000)).as("not a compacted topic").isFalse();
        assertThat(new CompactionSettings(true, false, 0, 0, Long.MAX_VALUE, 0.5).overdueMs(Long.MIN_VALUE + 1, 10_000))
                .as("no overflow on odd timestamps").isZero();
    }

    @Test
    void minimumLagHoldsBackRecentBatches() {
        CompactionSettings s = new CompactionSettings(true, false, 0, 1_000, Long.MAX_VALUE, 0.5);
        assertThat(s.tooRecent(9_001, 10_000)).isTrue();
        assertThat(s.tooRecent(9_000, 10_000)).isFalse();
        assertThat(new CompactionSettings(true, false, 0, 0, Long.MAX_VALUE, 0.5).tooRecent(20_000, 10_000))
                .as("without a minimum lag even a batch from the future is compactable").isFalse();
    }

    @Test
    void cleanPointFollowsRetentionAndRoundTrips() {
        CleanPoint p = new CleanPoint(100, 4_000, 55);
        assertThat(CleanPoint.decode(p.encode())).isEqualTo(p);
        assertThat(CleanPoint.decode(null)).isEqualTo(CleanPoint.NONE);
        assertThat(p.afterDropping(40, 1_000)).isEqualTo(new CleanPoint(100, 3_000, 55));
        assertThat(p.afterDropping(40, 9_000)).as("never below zero").isEqualTo(new CleanPoint(100, 0, 55));
        assertThat(p.afterDropping(100, 4_000)).as("everything clean dropped").isEqualTo(new CleanPoint(100, 0, CleanPoint.NO_TOMBSTONES));
        assertThat(p.dirtyRatio(8_000)).isEqualTo(0.5);
        assertThat(p.dirtyRatio(0)).isZero();
        assertThat(p.dirtyRatio(3_000)).as("a stale clean size never makes the ratio negative").isZero();
        assertThat(p.tombstonesDue(54)).isFalse();
        assertThat(p.tombstonesDue(55)).isTrue();
        assertThat(CleanPoint.NONE.tombstonesDue(Long.MAX_VALUE - 1)).isFalse();
    }

    @Test
    void keyMapKeepsTheLatestOffsetAndStopsAtItsBudget() {
        KeyOffsetMap map = new KeyOffsetMap(1 << 20);
        int capacity = map.remaining();
        assertThat(capacity).as("1 MiB at 24 bytes an entry, three quarters full at most").isEqualTo((int) (32_768 * 0.75));
        Map<String, Long> model = new HashMap<>();
        for (int i = 0; i < capacity; i++) {
            String key = "k" + (i % (capacity / 2));
            assertThat(map.put(key(key), i)).isTrue();
            model.put(key, (long) i);
        }
        for (int i = 0; i < capacity / 2; i++) {
            assertThat(map.get(key("k" + i))).isEqualTo(model.get("k" + i));
        }
        assertThat(map.get(key("absent"))).isEqualTo(-1);
        assertThat(map.size()).isEqualTo(capacity / 2);
        for (int i = 0; i < capacity - capacity / 2; i++) {
            assertThat(map.put(key("new" + i), 1)).isTrue();
        }
        assertThat(map.remaining()).isZero();
        assertThat(map.put(key("one too many"), 2)).as("a new key beyond the budget").isFalse();
        assertThat(map.put(key("k0"), 99)).as("a known key can still move on").isTrue();
        assertThat(map.get(key("k0"))).isEqualTo(99);
        map.clear();
        assertThat(map.size()).isZero();
        assertThat(map.get(key("k0"))).isEqualTo(-1);
    }

    private static ByteBuffer key(String s) {
        return ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8));
    }
}
