package io.capstan.broker.replica;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

class ReplicaTrackerTest {
    static final long LAG = 10_000;
    static final Set<Integer> ALIVE = Set.of(1, 2, 3);

    @Test
    void theLowWatermarkIsTheSmallestLogStartInTheIsr() {
        ReplicaTracker t = new ReplicaTracker(1, List.of(1, 2, 3), List.of(1, 2, 3), 100, 100, 0, LAG);
        assertThat(t.lowWatermark(50)).as("followers not heard from count as 0").isZero();
        t.followerLogStart(2, 50);
        t.followerLogStart(3, 40);
        assertThat(t.lowWatermark(50)).isEqualTo(40);
        t.followerLogStart(3, 60);
        assertThat(t.lowWatermark(50)).as("the leader's own start counts").isEqualTo(50);
        t.isrChanged(List.of(1, 2), 1);
        t.followerLogStart(3, 0);
        assertThat(t.lowWatermark(55)).as("a replica out of the ISR does not hold it back").isEqualTo(50);
    }

    @Test
    void followerLagIsTheFurthestBehindInRecordsAndTheLongestSinceCaughtUp() {
        ReplicaTracker t = new ReplicaTracker(1, List.of(1, 2, 3), List.of(1, 2, 3), 0, 0, 0, LAG);
        assertThat(t.maxFollowerLagRecords()).isZero();
        t.leaderAppended(100);
        t.followerFetched(2, 100, 500);
        t.followerFetched(3, 70, 500);
        assertThat(t.maxFollowerLagRecords()).as("follower 3 lacks 30").isEqualTo(30);
        assertThat(t.maxFollowerLagMs(900)).as("follower 3 last caught up when the tracker began, at 0").isEqualTo(900);
        t.followerFetched(3, 100, 950);
        assertThat(t.maxFollowerLagRecords()).isZero();
        assertThat(t.maxFollowerLagMs(1000)).as("both caught up at 500 and 950").isEqualTo(500);
        ReplicaTracker alone = new ReplicaTracker(1, List.of(1), List.of(1), 0, 0, 0, LAG);
        alone.leaderAppended(10);
        assertThat(alone.maxFollowerLagRecords()).isZero();
        assertThat(alone.maxFollowerLagMs(5_000)).as("no followers, no lag").isZero();
    }

    @Test
    void highWatermarkIsTheSmallestLogEndInTheIsr() {
        ReplicaTracker t = new ReplicaTracker(1, List.of(1, 2, 3), List.of(1, 2, 3), 0, 0, 0, LAG);
        assertThat(t.leaderAppended(100)).isZero();
        assertThat(t.followerFetched(2, 100, 5)).isZero();
        assertThat(t.followerFetched(3, 60, 5)).isEqualTo(60);
        assertThat(t.committed(59)).isTrue();
        assertThat(t.committed(60)).isFalse();
        assertThat(t.followerFetched(3, 100, 6)).isEqualTo(100);
    }

    @Test
    void aLaggingFollowerIsDroppedAndTheHighWatermarkMovesOn() {
        ReplicaTracker t = new ReplicaTracker(1, List.of(1, 2, 3), List.of(1, 2, 3), 0, 0, 0, LAG);
        t.leaderAppended(100);
        t.followerFetched(2, 100, 1000);
        t.followerFetched(3, 10, 1000);
        assertThat(t.isrChange(5000, ALIVE)).isEmpty();
        assertThat(t.isrChange(LAG + 1, ALIVE)).contains(List.of(1, 2));
        assertThat(t.isrChanged(List.of(1, 2), LAG + 1)).isEqualTo(100);
        // it comes back once it has everything the leader has
        t.followerFetched(3, 90, LAG + 2);
        assertThat(t.isrChange(LAG + 2, ALIVE)).isEmpty();
        t.followerFetched(3, 100, LAG + 3);
        assertThat(t.isrChange(LAG + 3, ALIVE)).contains(List.of(1, 2, 3));
        t.isrChanged(List.of(1, 2, 3), LAG + 3);
        // re-admitted, it gets a whole lag period before it can be dropped again
        assertThat(t.isrChange(LAG + 4, ALIVE)).isEmpty();
    }

    /** Whatever the followers do: the HW never exceeds an ISR member's log end, never goes back, the leader stays in sync. */
    @Test
    void aNewLeaderDoesNotReaddAFollowerItHasNotHeardFrom() {
        // replicas 1,2,3; broker 3 is out of the ISR (it died); the new leader starts at the high watermark
        ReplicaTracker t = new ReplicaTracker(1, List.of(1, 2, 3), List.of(1, 2), 100, 100, 0, LAG);
        assertThat(t.isrChange(10, ALIVE)).as("3 has not fetched from this leader").isEmpty();
        t.followerFetched(3, 100, 20);
        assertThat(t.isrChange(30, ALIVE)).contains(List.of(1, 2, 3));
    }

    /** Found by the Kubernetes canary scenario: on an idle shard, a crash-looping follower came straight back in. */
    @Test
    void aDroppedFollowerMustFetchAgainBeforeItRejoins() {
        ReplicaTracker t = new ReplicaTracker(1, List.of(1, 2, 3), List.of(1, 2, 3), 100, 100, 0, LAG);
        t.followerFetched(2, 100, 1);
        t.followerFetched(3, 100, 1);
        // 3 dies; nothing is produced, so its last fetch still reaches the high watermark
        t.followerFetched(2, 100, LAG + 1);
        assertThat(t.isrChange(LAG + 2, ALIVE)).contains(List.of(1, 2));
        t.isrChanged(List.of(1, 2), LAG + 2);
        assertThat(t.isrChange(LAG + 3, ALIVE)).as("3 has not fetched since it was dropped").isEmpty();
        t.followerFetched(3, 100, LAG + 4);
        assertThat(t.isrChange(LAG + 4, ALIVE)).contains(List.of(1, 2, 3));
    }

    /**
     * Found by ReplicatedClusterTest in CI: a stopping follower releases its lease, the controller takes it out of the
     * ISR, and its fetchers, not yet closed, fetch once more; that fetch reached the high watermark and brought it back.
     */
    @Test
    void aBrokerWithoutALeaseDoesNotRejoin() {
        ReplicaTracker t = new ReplicaTracker(1, List.of(1, 2, 3), List.of(1, 2), 100, 100, 0, LAG);
        t.followerFetched(3, 100, 1);
        assertThat(t.isrChange(2, Set.of(1, 2))).as("3 fetched everything but holds no lease").isEmpty();
        assertThat(t.isrChange(3, ALIVE)).contains(List.of(1, 2, 3));
    }

    /**
     * Found reading the code while chasing a loss on pods: a follower proposed for the ISR at the high watermark may lag
     * while the write is in flight; had the others moved the high watermark past it, the write would land, the follower
     * could be elected (a reassignment elects into its target at once) and acknowledged records would be truncated.
     * While the write is in flight the high watermark waits for it too.
     */
    @Test
    void aFollowerBeingAddedToTheIsrHoldsTheHighWatermarkWhileTheWriteIsInFlight() {
        ReplicaTracker t = new ReplicaTracker(1, List.of(1, 2, 3), List.of(1, 2), 100, 100, 0, LAG);
        t.followerFetched(2, 100, 1);
        t.followerFetched(3, 100, 1);
        List<Integer> proposed = t.isrChange(2, ALIVE).orElseThrow();
        assertThat(proposed).containsExactly(1, 2, 3);
        t.proposing(proposed);
        t.leaderAppended(150);
        assertThat(t.followerFetched(2, 150, 3)).as("3 has only 100 and may be in the ISR any moment").isEqualTo(100);
        assertThat(t.committed(100)).isFalse();
        assertThat(t.followerFetched(3, 120, 4)).isEqualTo(120);
        assertThat(t.isrChanged(proposed, 5)).isEqualTo(120);
        assertThat(t.followerFetched(3, 150, 6)).isEqualTo(150);
    }

    @Test
    void aProposalThatLostReleasesTheHighWatermarkOnceTheStoredIsrIsLearned() {
        ReplicaTracker t = new ReplicaTracker(1, List.of(1, 2, 3), List.of(1, 2), 100, 100, 0, LAG);
        t.followerFetched(2, 100, 1);
        t.followerFetched(3, 100, 1);
        t.proposing(t.isrChange(2, ALIVE).orElseThrow());
        t.leaderAppended(150);
        assertThat(t.followerFetched(2, 150, 3)).isEqualTo(100);
        // the compare-and-set lost; the watch brings the ISR the store has, without 3
        assertThat(t.isrChanged(List.of(1, 2), 4)).isEqualTo(150);
    }

    /**
     * With ISR writes that take time and may lose: every broker in the stored ISR (which is what elections read) has
     * every acknowledged record, whatever the followers do meanwhile.
     */
    @Property
    void everyReplicaInTheStoredIsrHasEveryAcknowledgedRecord(@ForAll("asyncSteps") @Size(max = 80) List<int[]> steps) {
        List<Integer> stored = List.of(1, 2, 3);
        ReplicaTracker t = new ReplicaTracker(1, List.of(1, 2, 3), stored, 0, 0, 0, LAG);
        List<Integer> inFlight = null;
        long leaderEnd = 0;
        long now = 0;
        long[] followerEnd = {0, 0, 0, 0};
        for (int[] step : steps) {
            now += step[2];
            switch (step[0]) {
                case 1 -> t.leaderAppended(leaderEnd += step[1]);
                case 2, 3 -> {
                    followerEnd[step[0]] = Math.min(leaderEnd, followerEnd[step[0]] + step[1]);
                    t.followerFetched(step[0], followerEnd[step[0]], now);
                }
                case 4 -> {
                    if (inFlight == null) {
                        inFlight = t.isrChange(now, ALIVE).orElse(null);
                        if (inFlight != null) {
                            t.proposing(inFlight);
                        }
                    }
                }
                case 5 -> {
                    if (inFlight != null) {
                        stored = inFlight;
                        t.isrChanged(stored, now);
                        inFlight = null;
                    }
                }
                default -> {
                    if (inFlight != null) {
                        t.isrChanged(stored, now); // lost: the stored ISR is learned again
                        inFlight = null;
                    }
                }
            }
            for (int r : stored) {
                long end = r == 1 ? leaderEnd : followerEnd[r];
                assertThat(end).as("log end of %d, in the stored ISR %s", r, stored).isGreaterThanOrEqualTo(t.highWatermark());
            }
        }
    }

    @Provide
    Arbitrary<List<int[]>> asyncSteps() {
        return Arbitraries.integers().between(1, 6).flatMap(what -> Arbitraries.integers().between(0, 50)
                .flatMap(amount -> Arbitraries.integers().between(0, 4000).map(dt -> new int[] {what, amount, dt})))
                .list();
    }

    @Property
    void highWatermarkInvariants(@ForAll("steps") @Size(max = 60) List<int[]> steps) {
        ReplicaTracker t = new ReplicaTracker(1, List.of(1, 2, 3), List.of(1, 2, 3), 0, 0, 0, LAG);
        long leaderEnd = 0;
        long now = 0;
        long lastHw = 0;
        long[] followerEnd = {0, 0, 0, 0};
        for (int[] step : steps) {
            now += step[2];
            if (step[0] == 1) {
                leaderEnd += step[1];
                t.leaderAppended(leaderEnd);
            } else {
                followerEnd[step[0]] = Math.min(leaderEnd, followerEnd[step[0]] + step[1]);
                t.followerFetched(step[0], followerEnd[step[0]], now);
            }
            long at = now;
            t.isrChange(now, ALIVE).ifPresent(isr -> t.isrChanged(isr, at));
            long hw = t.highWatermark();
            assertThat(hw).isGreaterThanOrEqualTo(lastHw);
            lastHw = hw;
            assertThat(t.isr()).contains(1);
            for (int r : t.isr()) {
                assertThat(t.logEnd(r)).isGreaterThanOrEqualTo(hw);
            }
            assertThat(hw).isLessThanOrEqualTo(leaderEnd);
        }
    }

    @Provide
    Arbitrary<List<int[]>> steps() {
        return Arbitraries.integers().between(1, 3).flatMap(who -> Arbitraries.integers().between(0, 50)
                .flatMap(amount -> Arbitraries.integers().between(0, 4000).map(dt -> new int[] {who, amount, dt})))
                .list();
    }
}
