package io.capstan.broker.log;

import java.util.function.Consumer;

/** One validated batch waiting for the group committer; {@code batch} is owned by the log from here on. */
record AppendRequest(Shard shard, byte[] batch, Consumer<AppendResult> callback) {}
