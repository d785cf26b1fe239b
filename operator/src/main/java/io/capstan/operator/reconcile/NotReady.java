package io.capstan.operator.reconcile;

/**
 * Why a resource cannot be made real now (its cluster is missing, not secured, has no CAs yet, ...): a reason for its
 * status condition, and a message saying what to do. Expected, so it carries no stack trace.
 */
public final class NotReady extends RuntimeException {
    private final String reason;

    public NotReady(String reason, String message) {
        super(message, null, false, false);
        this.reason = reason;
    }

    public String reason() {
        return reason;
    }
}
