package io.capstan.operator.spec;

/** One thing wrong with a BrokerCluster spec: the field, as a path the user can find, and what to do about it. */
public record SpecProblem(String field, String message) {
    @Override
    public String toString() {
        return field + ": " + message;
    }
}
