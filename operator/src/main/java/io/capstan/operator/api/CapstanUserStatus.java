package io.capstan.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.ArrayList;
import java.util.List;

/** Whether the user's credentials and ACLs are in force, and where its credentials are. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class CapstanUserStatus {
    public Long observedGeneration;
    public List<Condition> conditions = new ArrayList<>();
    /** The Kafka principal's name (User:<username>). */
    public String username;
    /** The Secret holding the credentials. */
    public String secret;
}
