package io.capstan.broker.security;

import io.capstan.cluster.metadata.ConflictException;
import io.capstan.cluster.metadata.MetadataCodec;
import io.capstan.cluster.metadata.MetadataStore;
import io.capstan.cluster.metadata.Versioned;
import io.capstan.cluster.metadata.MetadataCache;
import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.apache.kafka.common.security.scram.ScramCredential;
import org.apache.kafka.common.security.scram.internals.ScramFormatter;
import org.apache.kafka.common.security.scram.internals.ScramMechanism;

/**
 * SCRAM users in the cluster's metadata store, one key per user ({@code security/scram/<hex of the name>}), holding
 * per mechanism the salt, iterations, stored key and server key: never the password nor the salted password, so a
 * leaked store does not let anyone log in (RFC 5802). Every broker keeps a copy fed by a watch, so a new user or a
 * changed password is usable everywhere within one watch delivery.
 */
public final class ScramCredentialStore implements AutoCloseable {
    static final String PREFIX = "security/scram/";

    /** One user's credentials as stored: mechanism name to its keys. */
    public record UserRecord(String name, Map<String, StoredCredential> mechanisms) {}

    /** One mechanism's stored keys, base64 in JSON. */
    public record StoredCredential(byte[] salt, byte[] storedKey, byte[] serverKey, int iterations) {}

    private final MetadataStore store;
    private final io.capstan.cluster.metadata.NewestWins<String, UserRecord> users = new io.capstan.cluster.metadata.NewestWins<>();
    private final AutoCloseable watch;

    /** Follows the users through the broker's metadata cache; changes go to the cache's store. */
    public ScramCredentialStore(MetadataCache cache) {
        this(cache, false);
    }

    /** For tools that manage users without a broker (`capstan user`): a cache of its own, closed with this. */
    public ScramCredentialStore(MetadataStore store) {
        this(MetadataCache.open(store, java.time.Duration.ofMinutes(1)), true);
    }

    private ScramCredentialStore(MetadataCache cache, boolean closeWithThis) {
        this.store = cache.store();
        this.watch = cache.subscribe(PREFIX, this::apply);
        this.ownCache = closeWithThis ? cache : null;
    }

    private final MetadataCache ownCache;

    private void apply(MetadataCache.Change change) {
        if (change.isDelete()) {
            users.remove(MetadataCodec.decode(change.before().value(), UserRecord.class).name(), change.before().version());
        } else {
            UserRecord user = MetadataCodec.decode(change.after().value(), UserRecord.class);
            users.put(user.name(), change.after().version(), user);
        }
    }

    /** The credential a SCRAM exchange checks against, if the user has one for this mechanism. */
    public Optional<ScramCredential> credential(String user, ScramMechanism mechanism) {
        UserRecord record = users.get(user);
        StoredCredential c = record == null ? null : record.mechanisms().get(mechanism.mechanismName());
        return c == null ? Optional.empty() : Optional.of(new ScramCredential(c.salt(), c.storedKey(), c.serverKey(), c.iterations()));
    }

    /** Every user and the mechanisms with their iterations, read from the store itself (not the cache). */
    public Map<String, Map<String, Integer>> describe() {
        Map<String, Map<String, Integer>> out = new TreeMap<>();
        for (Versioned v : store.list(PREFIX).values()) {
            UserRecord user = MetadataCodec.decode(v.value(), UserRecord.class);
            Map<String, Integer> mechanisms = new TreeMap<>();
            user.mechanisms().forEach((m, c) -> mechanisms.put(m, c.iterations()));
            out.put(user.name(), mechanisms);
        }
        return out;
    }

    /**
     * Sets a user's credential from what AlterUserScramCredentials carries (the client salts and hashes the password;
     * the broker derives the stored and server keys from it and keeps only those).
     */
    public void upsert(String user, ScramMechanism mechanism, byte[] salt, byte[] saltedPassword, int iterations) {
        StoredCredential credential;
        try {
            ScramFormatter f = new ScramFormatter(mechanism);
            credential = new StoredCredential(salt, f.storedKey(f.clientKey(saltedPassword)), f.serverKey(saltedPassword), iterations);
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            throw new IllegalStateException("cannot derive SCRAM keys for " + mechanism, e);
        }
        change(user, mechanisms -> mechanisms.put(mechanism.mechanismName(), credential));
    }

    /** Sets a user's credential from a password (the CLI and tests; Kafka's tools send salted passwords instead). */
    public void upsertPassword(String user, ScramMechanism mechanism, String password, int iterations) {
        try {
            ScramFormatter f = new ScramFormatter(mechanism);
            byte[] salt = f.secureRandomBytes();
            upsert(user, mechanism, salt, f.saltedPassword(password, salt, iterations), iterations);
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            throw new IllegalStateException("cannot salt a password for " + mechanism, e);
        }
    }

    /** Removes one mechanism of a user; returns false when the user had none for it. */
    public boolean delete(String user, ScramMechanism mechanism) {
        boolean[] removed = new boolean[1];
        change(user, mechanisms -> removed[0] = mechanisms.remove(mechanism.mechanismName()) != null);
        return removed[0];
    }

    private void change(String user, java.util.function.Consumer<Map<String, StoredCredential>> edit) {
        String key = PREFIX + HexFormat.of().formatHex(user.getBytes(StandardCharsets.UTF_8));
        for (int attempt = 0; attempt < 100; attempt++) {
            Optional<Versioned> current = store.get(key);
            Map<String, StoredCredential> mechanisms = new HashMap<>(current
                    .map(v -> MetadataCodec.decode(v.value(), UserRecord.class).mechanisms()).orElse(Map.of()));
            edit.accept(mechanisms);
            byte[] value = MetadataCodec.encode(new UserRecord(user, mechanisms));
            try {
                // this broker uses the change at once (unless its watch already brought a newer one); the others when
                // their watch delivers it
                if (current.isEmpty()) {
                    if (!mechanisms.isEmpty()) {
                        users.put(user, store.create(key, value), new UserRecord(user, mechanisms));
                    }
                } else if (mechanisms.isEmpty()) {
                    store.delete(key, current.get().version());
                    users.remove(user, current.get().version());
                } else {
                    users.put(user, store.compareAndSet(key, current.get().version(), value), new UserRecord(user, mechanisms));
                }
                return;
            } catch (ConflictException lost) {
                Thread.onSpinWait(); // another writer changed this user: read again
            }
        }
        throw new IllegalStateException("gave up changing SCRAM user " + user + " after 100 lost races");
    }

    @Override
    public void close() {
        try {
            watch.close();
        } catch (Exception e) {
            // closing a watch has nothing to report
        }
        if (ownCache != null) {
            ownCache.close();
        }
    }
}
