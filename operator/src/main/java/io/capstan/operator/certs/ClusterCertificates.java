package io.capstan.operator.certs;

import io.capstan.certs.CertificateAuthority;
import io.capstan.certs.IssuedCertificate;
import io.capstan.certs.Pem;
import io.capstan.operator.api.BrokerCluster;
import io.capstan.operator.resources.ClusterSecrets;
import io.capstan.operator.resources.DesiredResources;
import io.capstan.operator.resources.Labels;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import javax.security.auth.x500.X500Principal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A secured cluster's CAs and broker certificates, kept in Secrets the cluster owns: the cluster CA (signs brokers and
 * the operator's own client certificate: whoever holds one is a super user on the replication listener), the clients
 * CA (signs users' certificates), a public Secret with the cluster CA bundle for clients to trust, and the brokers'
 * key and trust bundles, mounted into every broker (which reloads them when they change, so no certificate change
 * restarts a broker). Each pass makes them current as {@link Renewal} decides.
 */
public final class ClusterCertificates {
    private static final Logger log = LoggerFactory.getLogger(ClusterCertificates.class);

    private final KubernetesClient client;
    private final Consumer<Secret> writer;
    private final java.time.Duration trustPropagation;

    public ClusterCertificates(KubernetesClient client, Consumer<Secret> writer) {
        this(client, writer, CertificatePolicy.TRUST_PROPAGATION);
    }

    public ClusterCertificates(KubernetesClient client, Consumer<Secret> writer, java.time.Duration trustPropagation) {
        this.client = client;
        this.writer = writer;
        this.trustPropagation = trustPropagation;
    }

    /** The policy for a cluster: its spec's lifetimes, this operator's trust propagation. */
    public CertificatePolicy policy(BrokerCluster c) {
        return CertificatePolicy.of(c.getSpec().certificates, trustPropagation);
    }

    /**
     * The broker certificate's names: each pod's (up to {@code brokers}), a wildcard for them, the client Service's, and
     * the host names of ingress and tlsroute listeners, which clients check it against through the proxy in front.
     */
    public static Renewal.Wanted brokerNames(BrokerCluster c, int brokers) {
        return brokerNames(c, brokers, java.util.Set.of());
    }

    /**
     * With {@code external}: the host names and IP addresses TLS clients outside reach the brokers by that only the
     * observed cluster tells (nodes' addresses, load balancers'; {@code ExternalListeners.certificateNames}).
     */
    public static Renewal.Wanted brokerNames(BrokerCluster c, int brokers, java.util.Set<String> external) {
        String name = c.getMetadata().getName();
        String ns = c.getMetadata().getNamespace();
        String headless = DesiredResources.headlessName(c);
        java.util.Set<String> dns = new java.util.TreeSet<>();
        for (String suffix : List.of(".svc", ".svc.cluster.local")) {
            dns.add("*." + headless + "." + ns + suffix);
            dns.add(headless + "." + ns + suffix);
            dns.add(name + "." + ns + suffix);
            for (int i = 0; i < brokers; i++) {
                dns.add(name + "-" + i + "." + headless + "." + ns + suffix);
            }
        }
        dns.add(name);
        dns.add(name + "." + ns);
        dns.addAll(io.capstan.operator.resources.ExternalListeners.passthroughHosts(c, brokers));
        java.util.Set<String> ips = new java.util.TreeSet<>();
        for (String address : external) {
            if (ipLiteral(address)) {
                ips.add(Renewal.canonicalIp(address));
            } else {
                dns.add(address);
            }
        }
        return new Renewal.Wanted(ClusterSecrets.brokerPrincipal(c), dns, ips);
    }

    private static boolean ipLiteral(String name) {
        return name.contains(":") || name.matches("[0-9]{1,3}(\\.[0-9]{1,3}){3}");
    }

    /** Both CAs of a cluster, as its Secrets hold them now. */
    public record Authorities(Authority cluster, Authority clients) {}

    /** The cluster's CAs, or empty before the operator created them. */
    public Optional<Authorities> read(BrokerCluster c) {
        Optional<Authority> cluster = readCa(c, ClusterSecrets.clusterCa(c));
        Optional<Authority> clients = readCa(c, ClusterSecrets.clientsCa(c));
        return cluster.isPresent() && clients.isPresent() ? Optional.of(new Authorities(cluster.get(), clients.get())) : Optional.empty();
    }

    /** Makes every CA and certificate Secret current at {@code now} for a cluster of {@code brokers} brokers. */
    public void ensure(BrokerCluster c, int brokers, Instant now) {
        ensure(c, brokers, java.util.Set.of(), now);
    }

    /** The same, the broker certificate also naming {@code external} (see {@link #brokerNames(BrokerCluster, int, java.util.Set)}). */
    public void ensure(BrokerCluster c, int brokers, java.util.Set<String> external, Instant now) {
        CertificatePolicy policy = policy(c);
        var spec = c.getSpec().certificates;
        Authority clusterCa = ensureCa(c, ClusterSecrets.clusterCa(c), "cluster", spec == null ? null : spec.clusterCaSecret, now, policy);
        Authority clientsCa = ensureCa(c, ClusterSecrets.clientsCa(c), "clients", spec == null ? null : spec.clientsCaSecret, now, policy);
        String clusterTrust = Pem.bundle(clusterCa.trusted(now));
        String clientsTrust = Pem.bundle(clientsCa.trusted(now));
        Map<String, String> published = Map.of("ca.crt", clusterTrust);
        if (!published.equals(dataOf(get(c, ClusterSecrets.clusterCaCert(c))))) {
            write(c, ClusterSecrets.clusterCaCert(c), published);
        }

        Secret existing = get(c, ClusterSecrets.brokerCerts(c));
        String keyAndChain = data(existing, "broker.pem");
        X509Certificate leaf = keyAndChain == null ? null : Pem.certificate(keyAndChain);
        Renewal.Wanted wanted = brokerNames(c, brokers, external);
        Optional<String> why = Renewal.leaf(leaf, wanted, clusterCa.current().certificate(), now, policy);
        if (why.isPresent()) {
            IssuedCertificate issued = clusterCa.current().issue(new CertificateAuthority.Request(wanted.subject().getName(),
                    List.copyOf(wanted.dnsNames()), List.copyOf(wanted.ipAddresses()), now.minusSeconds(60),
                    Renewal.notAfter(now, policy.validity(), clusterCa.current().certificate())));
            keyAndChain = issued.keyAndChainPem();
            log.info("{}/{}: issued the broker certificate, valid until {} ({})", c.getMetadata().getNamespace(),
                    c.getMetadata().getName(), issued.certificate().getNotAfter().toInstant(), why.get());
        }
        Map<String, String> brokerFiles = new LinkedHashMap<>();
        brokerFiles.put("broker.pem", keyAndChain);
        brokerFiles.put("cluster-ca.crt", clusterTrust);
        brokerFiles.put("clients-ca.crt", clientsTrust);
        if (!brokerFiles.equals(dataOf(existing))) {
            write(c, ClusterSecrets.brokerCerts(c), brokerFiles);
        }
    }

    /** A client certificate for the operator itself, signed by the cluster CA: a super user on the replication listener. */
    public static IssuedCertificate operatorIdentity(Authority clusterCa, Instant now) {
        return clusterCa.current().issue(new CertificateAuthority.Request(ClusterSecrets.OPERATOR_PRINCIPAL.getName(), List.of(), List.of(),
                now.minusSeconds(60), Renewal.notAfter(now, java.time.Duration.ofHours(1), clusterCa.current().certificate())));
    }

    private Authority ensureCa(BrokerCluster c, String secret, String which, String userSecret, Instant now, CertificatePolicy policy) {
        Optional<Authority> existing = readCa(c, secret);
        X509Certificate current = existing.map(a -> a.current().certificate()).orElse(null);
        if (userSecret != null && !userSecret.isBlank()) {
            return fromUser(c, secret, which, userSecret, existing.orElse(null), now, policy);
        }
        switch (Renewal.ca(current, now, policy)) {
            case KEEP -> {
                return withoutExpiredPrevious(c, secret, existing.get(), now);
            }
            case CREATE, ROTATE -> {
                CertificateAuthority fresh = CertificateAuthority.create(new X500Principal("CN=" + c.getMetadata().getName() + "-" + which
                        + "-ca,O=capstan"), now, policy.caValidity());
                Authority next = new Authority(fresh, current);
                writeCa(c, secret, next);
                log.info("{}/{}: {} the {} CA, valid until {}", c.getMetadata().getNamespace(), c.getMetadata().getName(),
                        current == null ? "created" : "rotated", which, fresh.certificate().getNotAfter().toInstant());
                return next;
            }
            default -> throw new IllegalStateException();
        }
    }

    /**
     * A CA the user keeps in a Secret of their own: copied into the cluster's CA Secret, so that when the user replaces
     * it the CA it held stays in the trust bundles until it expires, as after the operator's own rotation. Never rotated
     * here; one that nears its end is logged on every pass.
     */
    private Authority fromUser(BrokerCluster c, String secret, String which, String userSecret, Authority existing, Instant now,
                               CertificatePolicy policy) {
        String field = "spec.certificates." + which + "CaSecret";
        Secret s = get(c, userSecret);
        String cert = data(s, "ca.crt");
        String key = data(s, "ca.key");
        if (cert == null || key == null) {
            throw new IllegalArgumentException(field + ": Secret " + userSecret + " does not exist or lacks ca.crt and ca.key (PEM);"
                    + " create it, or remove " + field + " to let the operator run the CA");
        }
        CertificateAuthority user;
        try {
            user = CertificateAuthority.of(Pem.certificate(cert), Pem.privateKey(key));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(field + ": Secret " + userSecret + " does not hold a CA certificate and its key: "
                    + e.getMessage() + "; fix the Secret");
        }
        if (!Renewal.ca(user.certificate(), now, policy).equals(Renewal.CaStep.KEEP)) {
            log.warn("{}/{}: the {} CA in Secret {} expires at {}; replace it (the operator does not rotate a CA it was given)",
                    c.getMetadata().getNamespace(), c.getMetadata().getName(), which, userSecret, user.certificate().getNotAfter().toInstant());
        }
        X509Certificate before = existing == null ? null : existing.current().certificate();
        if (user.certificate().equals(before)) {
            return withoutExpiredPrevious(c, secret, existing, now);
        }
        Authority next = new Authority(user, Renewal.stillTrusted(before, now) ? before : null);
        writeCa(c, secret, next);
        log.info("{}/{}: the {} CA now comes from Secret {} (valid until {})", c.getMetadata().getNamespace(), c.getMetadata().getName(),
                which, userSecret, user.certificate().getNotAfter().toInstant());
        return next;
    }

    /** The CA as kept, its previous CA dropped from the Secret (and so from every bundle) once that has expired. */
    private Authority withoutExpiredPrevious(BrokerCluster c, String secret, Authority a, Instant now) {
        if (a.previous() == null || Renewal.stillTrusted(a.previous(), now)) {
            return a;
        }
        Authority trimmed = new Authority(a.current(), null);
        writeCa(c, secret, trimmed);
        return trimmed;
    }

    private void writeCa(BrokerCluster c, String secret, Authority a) {
        Map<String, String> data = new LinkedHashMap<>();
        data.put("ca.crt", IssuedCertificate.pem(a.current().certificate()));
        data.put("ca.key", a.current().asIssued().keyPem());
        if (a.previous() != null) {
            data.put("previous.crt", IssuedCertificate.pem(a.previous()));
        }
        write(c, secret, data);
    }

    private Optional<Authority> readCa(BrokerCluster c, String secret) {
        Secret s = get(c, secret);
        String cert = data(s, "ca.crt");
        String key = data(s, "ca.key");
        if (cert == null || key == null) {
            return Optional.empty();
        }
        String previous = data(s, "previous.crt");
        return Optional.of(new Authority(CertificateAuthority.of(Pem.certificate(cert), Pem.privateKey(key)),
                previous == null ? null : Pem.certificate(previous)));
    }

    private Secret get(BrokerCluster c, String name) {
        return client.secrets().inNamespace(c.getMetadata().getNamespace()).withName(name).get();
    }

    private void write(BrokerCluster c, String name, Map<String, String> files) {
        writer.accept(owned(c, name, files));
    }

    /** A Secret of the cluster (its labels, an owner reference so it goes with the cluster) holding {@code files}. */
    static Secret owned(BrokerCluster c, String name, Map<String, String> files) {
        Map<String, String> encoded = new LinkedHashMap<>();
        files.forEach((k, v) -> encoded.put(k, Base64.getEncoder().encodeToString(v.getBytes(StandardCharsets.UTF_8))));
        return new SecretBuilder().withNewMetadata().withName(name).withNamespace(c.getMetadata().getNamespace())
                .withLabels(Labels.all(c.getMetadata().getName())).withOwnerReferences(DesiredResources.ownerOf(c)).endMetadata()
                .withType("Opaque").withData(encoded).build();
    }

    /** A key of a Secret, decoded; null when the Secret or the key is missing. */
    public static String data(Secret s, String key) {
        if (s == null || s.getData() == null || s.getData().get(key) == null) {
            return null;
        }
        return new String(Base64.getDecoder().decode(s.getData().get(key)), StandardCharsets.UTF_8);
    }

    private static Map<String, String> dataOf(Secret s) {
        Map<String, String> out = new LinkedHashMap<>();
        if (s != null && s.getData() != null) {
            s.getData().forEach((k, v) -> out.put(k, new String(Base64.getDecoder().decode(v), StandardCharsets.UTF_8)));
        }
        return out;
    }
}
