package io.capstan.e2e.k8s.kubelet;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ContainerViewTest {
    @Test
    void aHostPathPutInIsNotTranslatedAgain() {
        // the image's files in a checkout under /tmp, and a /tmp volume in the pod: CI clones under /tmp
        ContainerView view = new ContainerView(Map.of("/opt/capstan", Path.of("/tmp/ci-x"), "/tmp", Path.of("/pods/p1/volumes/tmp"),
                "/var/lib/capstan", Path.of("/pods/p1/volumes/data"), "/var/lib/capstan/data", Path.of("/pods/p1/volumes/more")), "10.0.0.7");
        assertThat(view.translate("exec /opt/capstan/bin/capstan broker --tmp /tmp/x")).isEqualTo("exec /tmp/ci-x/bin/capstan broker --tmp /pods/p1/volumes/tmp/x");
        assertThat(view.translate("data.dir=/var/lib/capstan/data/log")).as("the longest path first").isEqualTo("data.dir=/pods/p1/volumes/more/log");
        assertThat(view.translate("/var/lib/capstanx /opt/capstan")).isEqualTo("/var/lib/capstanx /tmp/ci-x");
        assertThat(view.translate("listener.host=0.0.0.0")).isEqualTo("listener.host=10.0.0.7");
    }
}
