package io.capstan.broker.net;

import java.util.function.BooleanSupplier;
import org.apache.kafka.common.protocol.ApiKeys;

/**
 * Whether a connection ends once a response has been written. A broker whose lease ran out unrenewed cannot hear the
 * metadata store, so the leaders it names may have been replaced: it answers, then closes, so the client's next
 * request goes to another broker. Kafka clients ask their least-loaded node for metadata, and the idle connection to
 * a leader that refuses every produce is exactly that node: kept open, a producer can ask the cut-off broker again and
 * again and never hear of the new leader (found by StorePartitionTest). Connection set-up (ApiVersions, the SASL
 * exchange) is answered and kept, or a client could never send anything else.
 */
public final class ConnectionSteering {
    public static final ConnectionSteering NEVER = new ConnectionSteering(() -> false);

    private final BooleanSupplier viewMayBeStale;

    /** {@code viewMayBeStale}: true while this broker's lease has run out unrenewed. */
    public ConnectionSteering(BooleanSupplier viewMayBeStale) {
        this.viewMayBeStale = viewMayBeStale;
    }

    /** Called as each response is written, so it follows the lease as it lapses and is renewed. */
    boolean closeAfter(ApiKeys api) {
        return !setsUpConnection(api) && viewMayBeStale.getAsBoolean();
    }

    static boolean setsUpConnection(ApiKeys api) {
        return api == ApiKeys.API_VERSIONS || api == ApiKeys.SASL_HANDSHAKE || api == ApiKeys.SASL_AUTHENTICATE;
    }
}
