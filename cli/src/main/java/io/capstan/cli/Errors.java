package io.capstan.cli;

import java.util.concurrent.ExecutionException;
import org.apache.kafka.common.errors.TimeoutException;

/** Turns client exceptions into one line that says what went wrong and what to try. */
final class Errors {
    private Errors() {}

    /**
     * As {@link #describe(Throwable)}, for a command that talked to {@code bootstrap} and gave up after {@code timeout}:
     * a time-out says which address did not answer in how long, and how to get a broker there.
     */
    static String describe(Throwable e, String bootstrap, java.time.Duration timeout) {
        Throwable root = root(e);
        Throwable timedOut = causeOf(e, TimeoutException.class);
        if (timedOut != null) {
            return "no answer from a broker at " + bootstrap + " within " + seconds(timeout) + " (" + root.getMessage() + "); is a broker"
                    + " running there? start one with 'capstan broker', give another address with -b host:port, or wait longer with --timeout";
        }
        if (root instanceof org.apache.kafka.common.errors.UnknownTopicOrPartitionException) {
            return root.getMessage() + " (create the topic: capstan topic create <name> -b " + bootstrap + "; list them: capstan topic list -b "
                    + bootstrap + ")";
        }
        return describe(root);
    }

    private static String seconds(java.time.Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
    }

    /** The first throwable of {@code kind} in {@code e}'s cause chain (ListGroups wraps its time-out in a KafkaException). */
    private static Throwable causeOf(Throwable e, Class<? extends Throwable> kind) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (kind.isInstance(t)) {
                return t;
            }
        }
        return null;
    }

    private static Throwable root(Throwable e) {
        Throwable root = e;
        while ((root instanceof ExecutionException || root instanceof java.util.concurrent.CompletionException) && root.getCause() != null) {
            root = root.getCause();
        }
        return root;
    }

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
