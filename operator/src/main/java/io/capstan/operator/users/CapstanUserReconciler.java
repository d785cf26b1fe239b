package io.capstan.operator.users;

import io.capstan.certs.CertificateAuthority;
import io.capstan.certs.IssuedCertificate;
import io.capstan.certs.Pem;
import io.capstan.operator.api.BrokerCluster;
import io.capstan.operator.api.CapstanUser;
import io.capstan.operator.api.CapstanUserSpec;
import io.capstan.operator.api.CapstanUserStatus;
import io.capstan.operator.certs.CertificatePolicy;
import io.capstan.operator.certs.ClusterCertificates;
import io.capstan.operator.certs.Renewal;
import io.capstan.operator.reconcile.Conditions;
import io.capstan.operator.reconcile.NotReady;
import io.capstan.operator.reconcile.ResourceWriter;
import io.capstan.operator.resources.DesiredResources;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.api.reconciler.Cleaner;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.security.auth.x500.X500Principal;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialDeletion;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.common.acl.AccessControlEntryFilter;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.errors.ResourceNotFoundException;
import org.apache.kafka.common.resource.ResourcePatternFilter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes a CapstanUser real in its cluster: credentials in a Secret named after the user (a SCRAM password, or a client
 * certificate from the clients CA), the SCRAM credential and the ACLs applied through the cluster's Kafka admin API,
 * and all of it removed when the user is deleted (a finalizer holds the object until the cluster has forgotten the
 * user; a cluster that is gone has nothing to forget). Ready says whether the user can work; NotReady says why.
 */
@ControllerConfiguration(name = "capstanuser")
public final class CapstanUserReconciler implements Reconciler<CapstanUser>, Cleaner<CapstanUser> {
    private static final Logger log = LoggerFactory.getLogger(CapstanUserReconciler.class);
    /** Level-triggered: ACLs or a credential removed behind the operator's back come back within this. */
    private static final Duration RESYNC = Duration.ofMinutes(2);
    private static final Duration RETRY = Duration.ofSeconds(10);
    static final String APPLIED_PASSWORD = "capstan.io/scram-password-sha256";
    private static final SecureRandom RANDOM = new SecureRandom();

    private final KubernetesClient client;
    private final ResourceWriter writer;
    private final ClusterAdmins admins;
    private final ClusterCertificates certificates;

    public CapstanUserReconciler(KubernetesClient client, ResourceWriter writer, ClusterAdmins admins) {
        this(client, writer, admins, CertificatePolicy.TRUST_PROPAGATION);
    }

    public CapstanUserReconciler(KubernetesClient client, ResourceWriter writer, ClusterAdmins admins, Duration trustPropagation) {
        this.client = client;
        this.writer = writer;
        this.admins = admins;
        this.certificates = new ClusterCertificates(client, writer::write, trustPropagation);
    }


    @Override
    public UpdateControl<CapstanUser> reconcile(CapstanUser user, Context<CapstanUser> context) {
        CapstanUserStatus status = user.getStatus() == null ? new CapstanUserStatus() : user.getStatus();
        user.setStatus(status);
        long generation = user.getMetadata().getGeneration() == null ? 0 : user.getMetadata().getGeneration();
        String who = user.getMetadata().getNamespace() + "/" + user.getMetadata().getName();
        status.observedGeneration = generation;
        status.username = user.getMetadata().getName();
        status.secret = user.getMetadata().getName();
        try {
            Applied applied = apply(user);
            Conditions.set(status.conditions, Conditions.READY, true, "Applied", applied.message(), generation);
            // a client certificate falling due before the next resync is renewed when it does
            Duration untilRenewal = Duration.between(Instant.now(), applied.nextRenewal()).plusSeconds(1);
            Duration next = untilRenewal.compareTo(RESYNC) >= 0 ? RESYNC : untilRenewal.isNegative() ? Duration.ofSeconds(1) : untilRenewal;
            return UpdateControl.patchStatus(user).rescheduleAfter(next);
        } catch (NotReady e) {
            log.info("{}: not ready: {}", who, e.getMessage());
            Conditions.set(status.conditions, Conditions.READY, false, e.reason(), e.getMessage(), generation);
        } catch (RuntimeException | ExecutionException | TimeoutException e) {
            String message = e instanceof ExecutionException && e.getCause() != null ? e.getCause().toString() : e.toString();
            log.warn("{}: cannot apply the user to its cluster: {}", who, message);
            Conditions.set(status.conditions, Conditions.READY, false, "ClusterUnreachable", "cannot apply the credentials and ACLs"
                    + " to BrokerCluster " + user.getSpec().cluster + ": " + message + "; retried every " + RETRY.toSeconds()
                    + " s (check that its brokers are ready)", generation);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return UpdateControl.patchStatus(user).rescheduleAfter(RETRY);
    }

    @Override
    public DeleteControl cleanup(CapstanUser user, Context<CapstanUser> context) {
        String who = user.getMetadata().getNamespace() + "/" + user.getMetadata().getName();
        BrokerCluster cluster = cluster(user).orElse(null);
        if (cluster == null || !DesiredResources.secured(cluster)) {
            log.info("{}: deleted; its cluster {} is gone or unsecured, nothing to revoke", who, user.getSpec().cluster);
            return DeleteControl.defaultDelete();
        }
        var authorities = certificates.read(cluster);
        if (authorities.isEmpty()) {
            return DeleteControl.defaultDelete();
        }
        String username = user.getMetadata().getName();
        try (Admin admin = admins.open(cluster, authorities.get().cluster())) {
            int removed = admin.deleteAcls(List.of(filterFor(username))).all().get(30, TimeUnit.SECONDS).size();
            try {
                admin.alterUserScramCredentials(List.of(new UserScramCredentialDeletion(username, ScramMechanism.SCRAM_SHA_512)))
                        .all().get(30, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof ResourceNotFoundException)) {
                    throw e;
                }
            }
            log.info("{}: deleted; revoked its {} ACLs and its SCRAM credential in {}", who, removed, user.getSpec().cluster);
            return DeleteControl.defaultDelete();
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            log.warn("{}: cannot revoke the user yet (retrying): {}", who, e.toString());
            return DeleteControl.noFinalizerRemoval().rescheduleAfter(RETRY);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return DeleteControl.noFinalizerRemoval().rescheduleAfter(RETRY);
        }
    }

    private Optional<BrokerCluster> cluster(CapstanUser user) {
        return Optional.ofNullable(client.resources(BrokerCluster.class).inNamespace(user.getMetadata().getNamespace())
                .withName(user.getSpec().cluster).get());
    }

    /** What the Ready condition says, and when the user's certificate falls due for renewal (Instant.MAX: never). */
    private record Applied(String message, Instant nextRenewal) {}

    /** Applies the user. */
    private Applied apply(CapstanUser user) throws ExecutionException, TimeoutException, InterruptedException {
        String username = user.getMetadata().getName();
        BrokerCluster cluster = cluster(user).orElseThrow(() -> new NotReady("ClusterNotFound", "BrokerCluster "
                + user.getSpec().cluster + " does not exist in namespace " + user.getMetadata().getNamespace() + "; create it or fix spec.cluster"));
        if (!DesiredResources.secured(cluster)) {
            throw new NotReady("ClusterNotSecured", "BrokerCluster " + cluster.getMetadata().getName() + " has no spec.listeners:"
                    + " its one plaintext listener authenticates nobody; add a listener with authentication");
        }
        ClusterCertificates.Authorities cas = certificates.read(cluster).orElseThrow(() -> new NotReady("CertificatesNotReady",
                "BrokerCluster " + cluster.getMetadata().getName() + " has no CAs yet; the operator creates them on its next pass"));
        Instant now = Instant.now();
        Secret existing = client.secrets().inNamespace(user.getMetadata().getNamespace()).withName(username).get();
        Map<String, String> files = new LinkedHashMap<>();
        files.put("ca.crt", Pem.bundle(cas.cluster().trusted(now)));
        String password = null;
        Instant nextRenewal = Instant.MAX;
        if ("tls".equals(user.getSpec().authentication.type)) {
            files.putAll(userCertificate(user, cluster, cas, existing, now));
            nextRenewal = Renewal.nextDue(List.of(Pem.certificate(files.get("user.crt"))), cas.clients().current().certificate(),
                    certificates.policy(cluster));
        } else {
            password = password(user, existing);
            files.put("password", password);
            files.put("sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required username=\""
                    + username + "\" password=\"" + password + "\";");
        }
        try (Admin admin = admins.open(cluster, cas.cluster())) {
            String passwordDigest = password == null ? null : sha256(password);
            if (password != null && (!passwordDigest.equals(annotation(existing)) || !hasScram(admin, username))) {
                admin.alterUserScramCredentials(List.of(new UserScramCredentialUpsertion(username,
                        new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 8192), password))).all().get(30, TimeUnit.SECONDS);
                log.info("{}/{}: SCRAM-SHA-512 credential applied to {}", user.getMetadata().getNamespace(), username, cluster.getMetadata().getName());
            }
            writeSecret(user, files, passwordDigest, existing);
            var desired = AclRules.bindings(username, user.getSpec().acls);
            var current = admin.describeAcls(filterFor(username)).values().get(30, TimeUnit.SECONDS);
            AclRules.Changes changes = AclRules.diff(desired, current);
            if (!changes.create().isEmpty()) {
                admin.createAcls(changes.create()).all().get(30, TimeUnit.SECONDS);
            }
            if (!changes.delete().isEmpty()) {
                admin.deleteAcls(changes.delete().stream().map(AclBinding::toFilter).toList()).all().get(30, TimeUnit.SECONDS);
            }
            if (!changes.none()) {
                log.info("{}/{}: ACLs in {}: {} added, {} removed", user.getMetadata().getNamespace(), username,
                        cluster.getMetadata().getName(), changes.create().size(), changes.delete().size());
            }
            return new Applied("User:" + username + " authenticates by " + user.getSpec().authentication.type + " with the credentials"
                    + " in Secret " + username + "; " + desired.size() + " ACL entries in force in " + cluster.getMetadata().getName(), nextRenewal);
        }
    }

    private static boolean hasScram(Admin admin, String username) throws ExecutionException, TimeoutException, InterruptedException {
        try {
            return !admin.describeUserScramCredentials(List.of(username)).description(username).get(30, TimeUnit.SECONDS)
                    .credentialInfos().isEmpty();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof ResourceNotFoundException) {
                return false;
            }
            throw e;
        }
    }

    static AclBindingFilter filterFor(String username) {
        return new AclBindingFilter(ResourcePatternFilter.ANY,
                new AccessControlEntryFilter(AclRules.principal(username), null, AclOperation.ANY, AclPermissionType.ANY));
    }

    /** The password: from the referenced Secret, else the one generated before, else a new one. */
    private String password(CapstanUser user, Secret existing) {
        CapstanUserSpec.Password source = user.getSpec().authentication.password;
        if (source != null) {
            Secret s = client.secrets().inNamespace(user.getMetadata().getNamespace()).withName(source.secretKeyRef.name).get();
            String value = ClusterCertificates.data(s, source.secretKeyRef.key);
            if (value == null) {
                throw new NotReady("PasswordSecretMissing", "Secret " + source.secretKeyRef.name + " with key " + source.secretKeyRef.key
                        + " (spec.authentication.password.secretKeyRef) does not exist; create it");
            }
            return value;
        }
        String before = ClusterCertificates.data(existing, "password");
        if (before != null) {
            return before;
        }
        byte[] bytes = new byte[24];
        RANDOM.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    /** The user's client certificate (CN=<user>, from the clients CA), issued again as {@link Renewal} decides. */
    private Map<String, String> userCertificate(CapstanUser user, BrokerCluster cluster, ClusterCertificates.Authorities cas,
                                                Secret existing, Instant now) {
        CertificatePolicy policy = certificates.policy(cluster);
        Renewal.Wanted wanted = new Renewal.Wanted(new X500Principal("CN=" + user.getMetadata().getName()), java.util.Set.of());
        String cert = ClusterCertificates.data(existing, "user.crt");
        String key = ClusterCertificates.data(existing, "user.key");
        var current = cert == null || key == null ? null : Pem.certificate(cert);
        Optional<String> why = Renewal.leaf(current, wanted, cas.clients().current().certificate(), now, policy);
        Map<String, String> files = new LinkedHashMap<>();
        if (why.isEmpty()) {
            files.put("user.crt", cert);
            files.put("user.key", key);
            files.put("user.pem", key + cert);
            return files;
        }
        IssuedCertificate issued = cas.clients().current().issue(new CertificateAuthority.Request(wanted.subject().getName(), List.of(),
                List.of(), now.minusSeconds(60), Renewal.notAfter(now, policy.validity(), cas.clients().current().certificate())));
        log.info("{}/{}: issued a client certificate valid until {} ({})", user.getMetadata().getNamespace(), user.getMetadata().getName(),
                issued.certificate().getNotAfter().toInstant(), why.get());
        files.put("user.crt", issued.certificatePem() + issued.caPem());
        files.put("user.key", issued.keyPem());
        files.put("user.pem", issued.keyAndChainPem());
        return files;
    }

    private void writeSecret(CapstanUser user, Map<String, String> files, String passwordDigest, Secret existing) {
        Map<String, String> encoded = new LinkedHashMap<>();
        files.forEach((k, v) -> encoded.put(k, Base64.getEncoder().encodeToString(v.getBytes(StandardCharsets.UTF_8))));
        Map<String, String> annotations = passwordDigest == null ? Map.of() : Map.of(APPLIED_PASSWORD, passwordDigest);
        if (existing != null && encoded.equals(existing.getData())
                && java.util.Objects.equals(passwordDigest, annotation(existing))) {
            return;
        }
        writer.write(new SecretBuilder().withNewMetadata().withName(user.getMetadata().getName())
                .withNamespace(user.getMetadata().getNamespace()).withAnnotations(annotations)
                .withLabels(Map.of("app.kubernetes.io/managed-by", "capstan-operator", "capstan.io/cluster", user.getSpec().cluster))
                .withOwnerReferences(new OwnerReferenceBuilder().withApiVersion(user.getApiVersion()).withKind(user.getKind())
                        .withName(user.getMetadata().getName()).withUid(user.getMetadata().getUid()).withController(true)
                        .withBlockOwnerDeletion(true).build())
                .endMetadata().withType("Opaque").withData(encoded).build());
    }

    private static String annotation(Secret s) {
        return s == null || s.getMetadata().getAnnotations() == null ? null : s.getMetadata().getAnnotations().get(APPLIED_PASSWORD);
    }

    private static String sha256(String s) {
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
