package io.capstan.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.ArrayList;
import java.util.List;

/** What a user asks for; every constraint here is enforced by the API server. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class CapstanUserSpec {
    @Required
    @JsonPropertyDescription("The BrokerCluster in this namespace the user belongs to (it needs spec.listeners).")
    public String cluster;

    @Required
    public Authentication authentication;

    @JsonPropertyDescription("Kafka ACLs allowing (or denying) this user operations on resources. None: the user may do nothing.")
    public List<Acl> acls = new ArrayList<>();

    @JsonInclude(JsonInclude.Include.NON_NULL)
    @ValidationRule(value = "self.type == 'scram-sha-512' || !has(self.password)", message = "password is for scram-sha-512 users only")
    public static class Authentication {
        @Required
        @Pattern("^(scram-sha-512|tls)$")
        @JsonPropertyDescription("scram-sha-512: a password (generated, or from password.secretKeyRef); tls: a client certificate"
                + " from the cluster's clients CA. Either way the credentials are in the Secret named after the user.")
        public String type;

        public Password password;
    }

    public static class Password {
        @Required
        public SecretKeyRef secretKeyRef;
    }

    public static class SecretKeyRef {
        @Required
        public String name;
        @Required
        public String key;
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class Acl {
        @Required
        public AclResource resource;

        @Required
        @JsonPropertyDescription("Kafka operations: Read, Write, Create, Delete, Alter, Describe, ClusterAction, DescribeConfigs,"
                + " AlterConfigs, IdempotentWrite, All.")
        public List<@Pattern("^(Read|Write|Create|Delete|Alter|Describe|ClusterAction|DescribeConfigs|AlterConfigs|IdempotentWrite|All)$") String> operations
                = new ArrayList<>();

        @Default("'*'")
        public String host = "*";

        @Default("allow")
        @Pattern("^(allow|deny)$")
        public String type = "allow";
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    @ValidationRule(value = "self.type == 'cluster' || has(self.name)", message = "name is required for topic, group and transactionalId")
    public static class AclResource {
        @Required
        @Pattern("^(topic|group|cluster|transactionalId)$")
        public String type;

        @JsonPropertyDescription("Resource name, or its prefix with patternType prefix; * for all.")
        public String name;

        @Default("literal")
        @Pattern("^(literal|prefix)$")
        public String patternType = "literal";
    }
}
