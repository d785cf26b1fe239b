package io.capstan.broker.replica;

/** What this broker is for one of its shards: its leader or a follower, in a leader epoch. */
sealed interface Role permits Leading, Following {
    int epoch();
}
