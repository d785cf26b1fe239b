package io.capstan.broker.log;

/** Told after each group commit which shards advanced, so parked fetches can wake. Called on the committer thread. */
public interface CommitListener {
    void committed(Shard shard);

    CommitListener NONE = shard -> { };
}
