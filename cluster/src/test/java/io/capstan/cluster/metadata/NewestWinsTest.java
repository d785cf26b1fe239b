package io.capstan.cluster.metadata;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class NewestWinsTest {
    @Test
    void anOlderOrEqualVersionDoesNotReplaceANewerOne() {
        NewestWins<String, String> view = new NewestWins<>();
        assertThat(view.put("k", 5, "written here")).isTrue();
        assertThat(view.put("k", 4, "delivered late")).isFalse();
        assertThat(view.put("k", 5, "the same write again")).isFalse();
        assertThat(view.get("k")).isEqualTo("written here");
        assertThat(view.put("k", 6, "newer")).isTrue();
        assertThat(view.get("k")).isEqualTo("newer");
    }

    @Test
    void aRemovalLeavesATombstoneThatOlderWritesCannotRevive() {
        NewestWins<String, String> view = new NewestWins<>();
        view.put("k", 7, "v7");
        assertThat(view.remove("k", 7)).as("the version held is the one deleted").isTrue();
        assertThat(view.remove("k", 7)).as("the watch reporting the same removal").isFalse();
        assertThat(view.get("k")).isNull();
        assertThat(view.put("k", 7, "the deleted write, delivered late")).isFalse();
        assertThat(view.put("k", 6, "delivered late")).isFalse();
        assertThat(view.get("k")).isNull();
        assertThat(view.values()).isEmpty();
        assertThat(view.keys()).isEmpty();
        assertThat(view.remove("k", 5)).as("an older removal").isFalse();
        assertThat(view.put("k", 8, "created again")).isTrue();
        assertThat(view.values()).containsExactly("created again");
        assertThat(view.keys()).containsExactly("k");
    }
}
