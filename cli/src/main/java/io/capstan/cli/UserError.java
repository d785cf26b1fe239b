package io.capstan.cli;

/** A failure whose message already says what is wrong and what to do next: printed as it is. */
final class UserError extends RuntimeException {
    UserError(String message) {
        super(message, null, false, false);
    }
}
