package io.capstan.broker.group.modern;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.protocol.Errors;

/**
 * Random clients against one group: they join, heartbeat, apply new assignments late or never, lose answers, leave,
 * fall silent, while topics grow and the coordinator moves (a new one resumes from what the journal made durable). No partition is ever owned by two clients at once, and once everyone heartbeats
 * and applies what it is told, the group settles with every subscribed partition owned by exactly one client.
 */
class ConsumerGroupModelTest {

    /** What a consumer believes: the partitions it consumes, the assignment it has been told but not applied yet. */
    private static final class Client {
        final String id;
        final List<String> topics;
        int epoch = -1; // not in the group
        Assignment owned = Assignment.EMPTY;
        Assignment told;
        boolean answerLost;

        Client(String id, List<String> topics) {
            this.id = id;
            this.topics = topics;
        }

        void fenced() {
            owned = Assignment.EMPTY; // it gives everything up before it rejoins
            told = null;
            epoch = -1;
        }
    }

    @Property(tries = 200)
    void noPartitionIsEverConsumedTwiceAndTheGroupSettles(@ForAll long seed) {
        Random random = new Random(seed);
        GroupFixture f = new GroupFixture();
        f.topic("a", 1 + random.nextInt(8));
        f.topic("b", 1 + random.nextInt(8));
        List<Client> clients = new ArrayList<>();
        for (int i = 0; i < 2 + random.nextInt(5); i++) {
            clients.add(new Client("c" + i, random.nextBoolean() ? List.of("a", "b") : List.of(random.nextBoolean() ? "a" : "b")));
        }
        int failovers = 0;
        for (int step = 0; step < 300; step++) {
            Client c = clients.get(random.nextInt(clients.size()));
            int action = random.nextInt(100);
            if (action < 3) {
                f.topic("a", f.topics.get("a").partitions() + 1);
            } else if (action < 5) {
                f.failOver();
                failovers++;
            } else if (action < 8) {
                advance(f, clients, 1_000 + random.nextInt(4_000));
            } else if (c.epoch < 0) {
                apply(c, f.join(c.id, c.topics.toArray(String[]::new)), false);
            } else if (action < 12) {
                Heartbeat.Result r = f.beat(c.id, -1, null);
                if (r.error() == Errors.NONE) {
                    c.fenced(); // left: it stops consuming
                }
            } else {
                if (c.told != null && random.nextInt(3) > 0) {
                    c.owned = c.told; // revokes what it lost, starts on what it gained
                    c.told = null;
                }
                Assignment reported = random.nextInt(5) == 0 ? null : c.owned;
                Heartbeat.Result r = c.answerLost ? f.beatFull(c.id, c.epoch, c.topics, c.owned) : f.beat(c.id, c.epoch, reported);
                apply(c, r, random.nextInt(10) == 0);
            }
            assertDisjoint(clients);
        }
        // everyone now heartbeats and applies at once, and the clock stands still once the group has looked at its topics
        advance(f, clients, 1_000);
        for (Client c : clients) {
            if (c.epoch < 0) {
                apply(c, f.join(c.id, c.topics.toArray(String[]::new)), false);
            }
        }
        for (int round = 0; round < 10; round++) {
            for (Client c : clients) {
                if (c.told != null) {
                    c.owned = c.told;
                    c.told = null;
                }
                apply(c, c.epoch < 0 ? f.join(c.id, c.topics.toArray(String[]::new))
                        : c.answerLost ? f.beatFull(c.id, c.epoch, c.topics, c.owned) : f.beat(c.id, c.epoch, c.owned), false);
                assertDisjoint(clients);
            }
        }
        for (Client c : clients) {
            if (c.told != null) {
                c.owned = c.told;
            }
        }
        assertThat(f.group.state()).as("%s", f.group.view()).isEqualTo(ConsumerGroup.State.STABLE);
        Map<Uuid, Set<Integer>> all = new TreeMap<>();
        clients.forEach(c -> c.owned.partitions().forEach((t, ps) -> all.computeIfAbsent(t, x -> new HashSet<>()).addAll(ps)));
        f.topics.values().forEach(t -> {
            boolean subscribed = clients.stream().anyMatch(c -> c.topics.contains(t.name()));
            assertThat(all.getOrDefault(t.id(), Set.of())).as(t.name()).hasSize(subscribed ? t.partitions() : 0);
        });
        for (Client c : clients) {
            assertThat(c.owned).as(c.id).isEqualTo(f.member(c.id).target());
        }
    }

    private static void advance(GroupFixture f, List<Client> clients, long ms) {
        f.advanceMs(ms);
        for (Client each : clients) {
            if (each.epoch >= 0 && f.member(each.id) == null) {
                // removed for silence (or for not revoking in time): a zombie until its next heartbeat is refused,
                // and one whose commits are refused already (its epoch is gone); it is no longer counted as owning
                each.fenced();
            }
        }
    }

    private static void apply(Client c, Heartbeat.Result r, boolean lost) {
        if (r.error() == Errors.FENCED_MEMBER_EPOCH || r.error() == Errors.UNKNOWN_MEMBER_ID) {
            c.fenced();
            return;
        }
        assertThat(r.error()).isEqualTo(Errors.NONE);
        c.answerLost = lost;
        if (lost) {
            return; // the answer never arrived: the client goes on with what it had and restates everything next time
        }
        c.epoch = r.memberEpoch();
        if (r.assignment() != null) {
            c.told = r.assignment();
        }
    }

    private static void assertDisjoint(List<Client> clients) {
        for (int i = 0; i < clients.size(); i++) {
            for (int j = i + 1; j < clients.size(); j++) {
                assertThat(clients.get(i).owned.overlaps(clients.get(j).owned))
                        .as("%s owns %s and %s owns %s", clients.get(i).id, clients.get(i).owned, clients.get(j).id, clients.get(j).owned)
                        .isFalse();
            }
        }
    }
}
