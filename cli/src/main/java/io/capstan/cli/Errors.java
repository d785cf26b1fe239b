package io.capstan.cli;

import java.util.concurrent.ExecutionException;
import org.apache.kafka.common.errors.TimeoutException;

/** Turns client exceptions into one line that says what went wrong and what to try. */
final class Errors {
    private Errors() {}

    static String describe(Throwable e) {
        Throwable root = e;
        while ((root instanceof ExecutionException || root instanceof java.util.concurrent.CompletionException) && root.getCause() != null) {
            root = root.getCause();
        }
        if (root instanceof TimeoutException) {
            return root.getMessage() + " (is a broker running at the --bootstrap-server address? start one with 'capstan broker')";
        }
        String message = root.getMessage() == null ? root.toString() : root.getMessage();
        if (root instanceof org.apache.kafka.common.errors.SaslAuthenticationException) {
            return message + " (check --user and the password, and that the user exists: capstan user list)";
        }
        if (root instanceof org.apache.kafka.common.errors.SslAuthenticationException) {
            return message + " (check --ca-file, and --keystore if the listener needs a client certificate)";
        }
        if (root instanceof org.apache.kafka.common.errors.AuthorizationException) {
            return message + " (an administrator can grant it: capstan acl create --principal User:<you> --operation <op> --topic|--group|--cluster ...)";
        }
        return message;
    }
}
