package io.capstan.cluster.controller;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Set;
import org.junit.jupiter.api.Test;

class OrphanShardsTest {
    @Test
    void shardsWithoutARecordAreOrphansOnlyAfterTheGracePeriod() {
        OrphanShards orphans = new OrphanShards(1000);
        assertThat(orphans.due(Set.of("kept", "ghost"), Set.of("kept"), 0)).isEmpty();
        assertThat(orphans.due(Set.of("kept", "ghost"), Set.of("kept"), 999)).as("a creation may still be under way").isEmpty();
        assertThat(orphans.due(Set.of("kept", "ghost"), Set.of("kept"), 1000)).containsExactly("ghost");
    }

    @Test
    void aRecordThatAppearsOrShardsThatGoStartTheClockAgain() {
        OrphanShards orphans = new OrphanShards(1000);
        orphans.due(Set.of("creating", "deleting"), Set.of(), 0);
        assertThat(orphans.due(Set.of("creating", "deleting"), Set.of("creating"), 500)).as("its record came: a creation").isEmpty();
        assertThat(orphans.due(Set.of("creating"), Set.of("creating"), 600)).as("its shards went: a deletion finished").isEmpty();
        assertThat(orphans.due(Set.of("creating", "deleting"), Set.of(), 1500)).as("both back without records: a fresh clock").isEmpty();
        assertThat(orphans.due(Set.of("creating", "deleting"), Set.of(), 2500)).containsExactly("creating", "deleting");
        orphans.forget("deleting");
        assertThat(orphans.due(Set.of("creating", "deleting"), Set.of(), 2600)).containsExactly("creating");
    }
}
