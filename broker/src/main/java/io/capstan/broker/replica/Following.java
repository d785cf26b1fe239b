package io.capstan.broker.replica;

/** Copying a shard from {@code leader} in {@code epoch}. */
record Following(int epoch, int leader) implements Role {}
