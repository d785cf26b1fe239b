package io.capstan.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Kafka's listener, TLS and SASL settings: what they mean, and a clear refusal for each way to get them wrong. */
class ListenerSettingsTest {
    static final String PROTOCOLS = "PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL";

    @Test
    void listenersMapToProtocolsAndAdvertisedAddresses() {
        var listeners = ListenerParser.parse("CLIENT://0.0.0.0:9093,REPLICATION://10.0.0.5:9094,PLAINTEXT://[::1]:9092",
                "CLIENT://broker-0.example.com:19093", "CLIENT:SASL_SSL,REPLICATION:SSL,PLAINTEXT:PLAINTEXT");
        assertThat(listeners).containsExactly(
                new Listener("CLIENT", "0.0.0.0", 9093, SecurityProtocol.SASL_SSL, "broker-0.example.com", 19093),
                new Listener("REPLICATION", "10.0.0.5", 9094, SecurityProtocol.SSL, "10.0.0.5", 0),
                new Listener("PLAINTEXT", "::1", 9092, SecurityProtocol.PLAINTEXT, "::1", 0));
        assertThat(ListenerParser.parse("sasl_ssl://:9093", "", PROTOCOLS).get(0).host()).isEqualTo("0.0.0.0");
    }

    @Test
    void malformedListenersAreRefusedNamingTheProblem() {
        Map<String, String> bad = Map.of(
                "9092", "must look like NAME://host:port",
                "PLAINTEXT://localhost", "has no port",
                "PLAINTEXT://localhost:http", "not a number",
                "PLAINTEXT://localhost:70000", "0..65535",
                "PLAINTEXT://a:1,PLAINTEXT://b:2", "names PLAINTEXT twice",
                "PLAINTEXT://a:9092,SSL://b:9092", "port 9092 is used by two listeners",
                "CLIENT://a:1", "add CLIENT:<PLAINTEXT|SSL|SASL_PLAINTEXT|SASL_SSL> to listener.security.protocol.map",
                "MY-LISTENER://a:1", "only letters, digits and _",
                "", "listeners is empty");
        bad.forEach((value, message) -> assertThatThrownBy(() -> ListenerParser.parse(value, "", PROTOCOLS))
                .as(value).isInstanceOf(ConfigException.class).hasMessageContaining(message));
        assertThatThrownBy(() -> ListenerParser.parse("SSL://a:1", "", "SSL:TLS")).hasMessageContaining("unknown protocol 'TLS'");
        assertThatThrownBy(() -> ListenerParser.parse("SSL://a:1", "", "SSL")).hasMessageContaining("must be NAME:PROTOCOL");
        assertThatThrownBy(() -> ListenerParser.parse("SSL://a:1", "PLAINTEXT://b:2", PROTOCOLS)).hasMessageContaining("not in listeners");
        assertThatThrownBy(() -> ListenerParser.parse("SSL://a:1", "SSL://0.0.0.0:2", PROTOCOLS)).hasMessageContaining("needs a host clients can reach");
    }

    @Test
    void withoutListenersTheOldSingleListenerSettingsStillWork() {
        BrokerConfig c = BrokerConfig.from(Map.of("listener.host", "10.1.2.3", "listener.port", "19092", "advertised.host", "kafka.example"));
        assertThat(c.security().listeners()).containsExactly(
                new Listener("PLAINTEXT", "10.1.2.3", 19092, SecurityProtocol.PLAINTEXT, "kafka.example", 0));
        assertThat(c.security().interBrokerListener()).isEqualTo("PLAINTEXT");
        assertThat(c.security().secured()).isFalse();
        assertThatThrownBy(() -> BrokerConfig.from(Map.of("listeners", "PLAINTEXT://:9092", "listener.port", "9093")))
                .hasMessageContaining("not both");
    }

    @Test
    void tlsAndSaslSettingsAreReadPerListenerWithKafkasOverrides() {
        Map<String, String> s = new HashMap<>();
        s.put("listeners", "CLIENT://:9093,REPLICATION://:9094");
        s.put("listener.security.protocol.map", "CLIENT:SASL_SSL,REPLICATION:SSL");
        s.put("inter.broker.listener.name", "replication");
        s.put("ssl.keystore.location", "/etc/capstan/broker.p12");
        s.put("ssl.truststore.location", "/etc/capstan/ca.p12");
        s.put("listener.name.replication.ssl.client.auth", "required");
        s.put("listener.name.client.sasl.enabled.mechanisms", "SCRAM-SHA-256");
        s.put("super.users", "User:CN=broker-0;User:admin");
        BrokerConfig c = BrokerConfig.from(s);
        Security sec = c.security();
        assertThat(sec.interBroker().name()).isEqualTo("REPLICATION");
        assertThat(sec.ssl().get("REPLICATION").clientAuth()).isEqualTo(SslSettings.ClientAuth.REQUIRED);
        assertThat(sec.ssl().get("CLIENT").clientAuth()).isEqualTo(SslSettings.ClientAuth.NONE);
        assertThat(sec.sasl().get("CLIENT").enabledMechanisms()).containsExactly("SCRAM-SHA-256");
        assertThat(sec.sasl()).doesNotContainKey("REPLICATION");
        assertThat(sec.superUsers()).containsExactlyInAnyOrder("User:CN=broker-0", "User:admin");
        assertThat(sec.secured()).isTrue();
    }

    @Test
    void unusableSecuritySettingsAreRefusedWithWhatToDo() {
        Map<String, String> ssl = Map.of("listeners", "SSL://:9093");
        assertThatThrownBy(() -> BrokerConfig.from(ssl)).hasMessageContaining("needs ssl.keystore.location");
        Map<String, String> mtlsWithoutTrust = Map.of("listeners", "SSL://:9093", "ssl.keystore.location", "k.p12", "ssl.client.auth", "required");
        assertThatThrownBy(() -> BrokerConfig.from(mtlsWithoutTrust)).hasMessageContaining("needs ssl.truststore.location");
        assertThatThrownBy(() -> BrokerConfig.from(Map.of("listeners", "SSL://:9093", "ssl.keystore.location", "k", "ssl.client.auth", "maybe")))
                .hasMessageContaining("ssl.client.auth must be required, requested or none");
        assertThatThrownBy(() -> BrokerConfig.from(Map.of("listeners", "SSL://:9093", "ssl.keystore.location", "k", "ssl.enabled.protocols", "TLSv1.1")))
                .hasMessageContaining("TLSv1.2 and TLSv1.3");
        assertThatThrownBy(() -> BrokerConfig.from(Map.of("listeners", "SSL://:9093", "ssl.keystore.location", "k", "ssl.keystore.type", "P12")))
                .hasMessageContaining("PKCS12, JKS or PEM");
        assertThatThrownBy(() -> BrokerConfig.from(Map.of("listeners", "SASL_PLAINTEXT://:9093", "sasl.enabled.mechanisms", "GSSAPI")))
                .hasMessageContaining("'GSSAPI' is not supported");
        assertThatThrownBy(() -> BrokerConfig.from(Map.of("listeners", "SASL_PLAINTEXT://:9093", "sasl.enabled.mechanisms", "PLAIN")))
                .hasMessageContaining("sasl.plain.credentials.file");
        assertThatThrownBy(() -> BrokerConfig.from(Map.of("listeners", "SASL_PLAINTEXT://:9093", "connections.max.reauth.ms", "-5")))
                .hasMessageContaining("connections.max.reauth.ms must be >= 0");
        assertThatThrownBy(() -> BrokerConfig.from(Map.of("listeners", "SASL_PLAINTEXT://:9093", "sasl.server.max.receive.size", "99999999999")))
                .hasMessageContaining("at most 2147483647");
        assertThatThrownBy(() -> BrokerConfig.from(Map.of("inter.broker.listener.name", "REPLICATION")))
                .hasMessageContaining("inter.broker.listener.name REPLICATION is not one of listeners");
        assertThatThrownBy(() -> BrokerConfig.from(Map.of("listeners", "SASL_SSL://:9093", "ssl.keystore.location", "k", "metadata.dir", "/tmp/m")))
                .hasMessageContaining("set inter.broker.sasl.username");
        assertThatThrownBy(() -> BrokerConfig.from(Map.of("super.users", "admin")))
                .hasMessageContaining("must be a principal such as User:alice");
        assertThatThrownBy(() -> BrokerConfig.from(Map.of("authorizer.class.name", "com.example.Mine")))
                .hasMessageContaining("authorizer.class.name must be empty");
        assertThatThrownBy(() -> BrokerConfig.from(Map.of("listener.name.ssl.ssl.bogus", "x")))
                .hasMessageContaining("unknown setting");
    }
}
