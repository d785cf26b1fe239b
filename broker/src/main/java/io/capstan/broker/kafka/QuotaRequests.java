package io.capstan.broker.kafka;

import io.capstan.broker.quota.ClientThrottles;
import io.capstan.broker.quota.QuotaEntity;
import java.util.List;
import java.util.Set;

/** What AlterClientQuotas may set, checked as Kafka's controller checks it, with Kafka's messages where it has one. */
final class QuotaRequests {
    /** Kafka's other user and client quota; accepted by Kafka, refused here until Capstan enforces it (decision 0017). */
    private static final Set<String> NOT_ENFORCED = Set.of("controller_mutation_rate");
    /** Kafka defines these as LONG: whole numbers. */
    private static final Set<String> BYTE_RATES = Set.of(ClientThrottles.PRODUCER_BYTE_RATE, ClientThrottles.CONSUMER_BYTE_RATE);

    private QuotaRequests() {}

    /** A refused request part: the message a client sees with INVALID_REQUEST. */
    static final class Invalid extends Exception {
        Invalid(String message) {
            super(message, null, false, false);
        }
    }

    /** The entity named by (type, name-or-null) pairs. */
    static QuotaEntity entity(List<String[]> parts) throws Invalid {
        if (parts.isEmpty()) {
            throw new Invalid("Invalid empty client quota entity");
        }
        QuotaEntity.Name user = null;
        QuotaEntity.Name client = null;
        for (String[] part : parts) {
            String type = part[0];
            String name = part[1];
            if (name != null && name.isEmpty()) {
                throw new Invalid("Empty " + type + " not supported");
            }
            switch (type) {
                case QuotaEntity.USER -> {
                    if (user != null) {
                        throw new Invalid("Invalid client quota entity, duplicate entity entry " + type);
                    }
                    user = QuotaEntity.Name.of(name);
                }
                case QuotaEntity.CLIENT_ID -> {
                    if (client != null) {
                        throw new Invalid("Invalid client quota entity, duplicate entity entry " + type);
                    }
                    client = QuotaEntity.Name.of(name);
                }
                case "ip" -> throw new Invalid("IP quotas (connection_creation_rate) are not supported by Capstan; "
                        + "limit connections per address with max.connections.per.ip");
                default -> throw new Invalid("Unhandled client quota entity type: " + type);
            }
        }
        return new QuotaEntity(user, client);
    }

    /** A value to set for {@code key}. */
    static void checkValue(String key, double value) throws Invalid {
        if (NOT_ENFORCED.contains(key)) {
            throw new Invalid(key + " is not enforced by Capstan (it enforces producer_byte_rate, consumer_byte_rate and request_percentage); "
                    + "see docs/quotas.md");
        }
        boolean percentage = ClientThrottles.REQUEST_PERCENTAGE.equals(key);
        if (!percentage && !BYTE_RATES.contains(key)) {
            throw new Invalid("Invalid configuration key " + key);
        }
        if (!(value > 0.0)) {
            throw new Invalid("Quota " + key + " must be greater than 0");
        }
        if (percentage) {
            return; // a DOUBLE in Kafka: fractions allowed
        }
        if (value > Long.MAX_VALUE) {
            throw new Invalid("Proposed value for " + key + " is too large for a LONG.");
        }
        if (Math.abs(value % 1.0) > 1e-6) {
            throw new Invalid(key + " cannot be a fractional value.");
        }
    }
}
