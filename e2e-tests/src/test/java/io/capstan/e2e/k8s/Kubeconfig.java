package io.capstan.e2e.k8s;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** A kubeconfig file with one cluster, one user and one context, as kubectl, Helm and Fabric8 read it. */
public final class Kubeconfig {
    private Kubeconfig() {}

    /** {@code credentials} is the user's YAML flow mapping, e.g. {@code {token: "..."}}. */
    public static Path write(Path file, String server, Path ca, String user, String credentials, String namespace) throws IOException {
        Files.writeString(file, """
                apiVersion: v1
                kind: Config
                clusters:
                - name: capstan-e2e
                  cluster: {server: "%s", certificate-authority: "%s"}
                users:
                - name: %s
                  user: %s
                contexts:
                - name: %s
                  context: {cluster: capstan-e2e, user: %s, namespace: %s}
                current-context: %s
                """.formatted(server, ca, user, credentials, user, user, namespace, user));
        return file;
    }
}
