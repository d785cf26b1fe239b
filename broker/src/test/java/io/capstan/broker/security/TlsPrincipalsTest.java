package io.capstan.broker.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** Kafka's ssl.principal.mapping.rules, applied to certificate subjects as the broker sees them (RFC 2253). */
class TlsPrincipalsTest {
    @Test
    void defaultKeepsTheWholeDistinguishedName() {
        assertThat(new TlsPrincipals("DEFAULT").map("CN=alice,OU=payments,O=example")).isEqualTo("CN=alice,OU=payments,O=example");
    }

    @Test
    void rulesExtractAndTransformAsInKafka() {
        TlsPrincipals rules = new TlsPrincipals("RULE:^CN=([^,]+),OU=payments,.*$/$1-payments/L,RULE:^CN=([^,]+),.*$/$1/U,DEFAULT");
        assertThat(rules.map("CN=Alice,OU=payments,O=example")).isEqualTo("alice-payments");
        assertThat(rules.map("CN=bob,OU=search,O=example")).isEqualTo("BOB");
    }

    @Test
    void aSubjectNoRuleMatchesIsRefused() {
        TlsPrincipals strict = new TlsPrincipals("RULE:^CN=([^,]+),O=example$/$1/");
        assertThat(strict.map("CN=carol,O=example")).isEqualTo("carol");
        assertThatThrownBy(() -> strict.map("CN=mallory,O=elsewhere")).hasMessageContaining("no ssl.principal.mapping.rules rule matches");
    }
}
