package io.capstan.operator;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.operator.rollout.RollingRestart;
import io.capstan.operator.rollout.RollingRestart.PodView;
import io.capstan.operator.rollout.RollingRestart.Safety;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class RollingRestartTest {
    static List<PodView> pods(String... revisions) {
        List<PodView> out = new ArrayList<>();
        for (int i = 0; i < revisions.length; i++) {
            out.add(new PodView(i, revisions[i], true, false));
        }
        return out;
    }

    @Test
    void restartsTheHighestOutdatedBrokerWhenItSaysItIsSafe() {
        assertThat(RollingRestart.next(pods("old", "old", "old"), 3, "new", Integer.MAX_VALUE, o -> Safety.SAFE))
                .isEqualTo(new RollingRestart.Restart(2, 0));
        assertThat(RollingRestart.next(pods("old", "old", "new"), 3, "new", Integer.MAX_VALUE, o -> Safety.SAFE))
                .isEqualTo(new RollingRestart.Restart(1, 1));
        assertThat(RollingRestart.next(pods("new", "new", "new"), 3, "new", Integer.MAX_VALUE, o -> Safety.SAFE))
                .isEqualTo(new RollingRestart.Done(3));
    }

    @Test
    void waitsForReadinessForSafetyAndForTheStepLimit() {
        List<PodView> restarting = new ArrayList<>(pods("old", "old", "new"));
        restarting.set(2, new PodView(2, "new", false, false));
        assertThat(RollingRestart.next(restarting, 3, "new", Integer.MAX_VALUE, o -> Safety.SAFE))
                .isEqualTo(new RollingRestart.Wait("broker 2 is not ready yet", 1));
        assertThat(RollingRestart.next(pods("old", "old", "old"), 3, "new", Integer.MAX_VALUE,
                o -> new Safety(false, "orders-0 would drop to 1 in-sync replica(s)")))
                .isEqualTo(new RollingRestart.Wait("broker 2 is not safe to restart: orders-0 would drop to 1 in-sync replica(s)", 0));
        assertThat(RollingRestart.next(pods("old", "old", "new"), 3, "new", 1, o -> Safety.SAFE))
                .isEqualTo(new RollingRestart.Wait("1 broker(s) updated, the limit of this step", 1));
        assertThat(RollingRestart.next(pods("old", "old"), 3, "new", Integer.MAX_VALUE, o -> Safety.SAFE))
                .isEqualTo(new RollingRestart.Wait("2 of 3 broker pods exist; waiting for the rest", 0));
    }

    @Test
    void aBrokerDownOnAnOutdatedTemplateIsReplacedFirstWithoutAskingIt() {
        // a crash-looping canary ("bad") rolled back to "good": it cannot answer and nothing depends on it
        List<PodView> brokenCanary = new ArrayList<>(pods("good", "good", "bad"));
        brokenCanary.set(2, new PodView(2, "bad", false, false));
        assertThat(RollingRestart.next(brokenCanary, 3, "good", Integer.MAX_VALUE, o -> {
            throw new AssertionError("a broker that is down is not asked");
        })).isEqualTo(new RollingRestart.Restart(2, 2));
        // but never while another broker is going away, nor beyond a canary step's limit
        List<PodView> alsoTerminating = new ArrayList<>(brokenCanary);
        alsoTerminating.set(0, new PodView(0, "good", true, true));
        assertThat(RollingRestart.next(alsoTerminating, 3, "good", Integer.MAX_VALUE, o -> Safety.SAFE))
                .isEqualTo(new RollingRestart.Wait("broker 0 is restarting", 1));
        assertThat(RollingRestart.next(brokenCanary, 3, "good", 2, o -> Safety.SAFE))
                .isEqualTo(new RollingRestart.Wait("broker 2 is not ready yet", 2));
    }

    /** Driving the decisions to the end, like the reconciler does: every broker is restarted exactly once, never two at a time. */
    @Property
    void aRolloutRestartsEachBrokerOnceAndOneAtATime(@ForAll @IntRange(min = 1, max = 9) int replicas,
                                                      @ForAll @IntRange(min = 0, max = 9) int alreadyNew,
                                                      @ForAll @IntRange(min = 0, max = 5) int unsafeAnswers) {
        List<PodView> pods = new ArrayList<>();
        for (int i = 0; i < replicas; i++) {
            pods.add(new PodView(i, i >= replicas - Math.min(alreadyNew, replicas) ? "new" : "old", true, false));
        }
        int[] restarts = new int[replicas];
        AtomicInteger refusals = new AtomicInteger(unsafeAnswers);
        for (int round = 0; round < 100; round++) {
            RollingRestart.Decision d = RollingRestart.next(pods, replicas, "new", Integer.MAX_VALUE,
                    o -> refusals.getAndDecrement() > 0 ? new Safety(false, "not yet") : Safety.SAFE);
            if (d instanceof RollingRestart.Done) {
                break;
            }
            if (d instanceof RollingRestart.Restart r) {
                assertThat(pods).allMatch(PodView::ready);
                restarts[r.ordinal()]++;
                pods.set(r.ordinal(), new PodView(r.ordinal(), "new", false, false)); // recreated, starting
            } else {
                // the restarted broker comes up; an unsafe answer is asked again next round
                pods.replaceAll(p -> new PodView(p.ordinal(), p.revision(), true, false));
            }
        }
        assertThat(pods).allMatch(p -> p.revision().equals("new"));
        for (int i = 0; i < replicas; i++) {
            assertThat(restarts[i]).isEqualTo(i >= replicas - Math.min(alreadyNew, replicas) ? 0 : 1);
        }
    }
}
