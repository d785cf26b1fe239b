package io.capstan.cluster.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.capstan.cluster.metadata.BrokerRegistration;
import io.capstan.cluster.metadata.LocalFileMetadataStore;
import io.capstan.cluster.metadata.MetadataStore;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A real file store whose writes can be made to fail, as an unreachable API server's would. */
class BrokerLeaseTest {
    @TempDir
    Path dir;

    private final AtomicBoolean unreachable = new AtomicBoolean();

    private MetadataStore failingWrites(MetadataStore inner) {
        return (MetadataStore) Proxy.newProxyInstance(MetadataStore.class.getClassLoader(), new Class<?>[] {MetadataStore.class},
                (proxy, method, args) -> {
                    if (unreachable.get() && (method.getName().equals("compareAndSet") || method.getName().equals("create"))) {
                        throw new IllegalStateException("metadata store unreachable");
                    }
                    try {
                        return method.invoke(inner, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    @Test
    void theLeaseIsHeldWhileRenewalsAreAcceptedAndNotOnceALeasePassesWithoutOne() throws Exception {
        try (LocalFileMetadataStore inner = new LocalFileMetadataStore(dir, 100);
             BrokerLease lease = new BrokerLease(failingWrites(inner), new BrokerRegistration(1, "127.0.0.1", 9092, null, 0), 600, 100,
                     System::currentTimeMillis)) {
            assertThat(lease.held()).as("before the first renewal").isFalse();
            lease.start();
            assertThat(lease.held()).as("right after a renewal the store accepted").isTrue();
            long cut = System.nanoTime();
            unreachable.set(true);
            await().atMost(Duration.ofSeconds(10)).until(() -> !lease.held());
            assertThat((System.nanoTime() - cut) / 1_000_000).as("ms from the last accepted renewal until the lease is not held")
                    .isLessThanOrEqualTo(600 + 3_000); // a lease after the last renewal sent before the cut, plus slack for a loaded CI
            unreachable.set(false);
            await().atMost(Duration.ofSeconds(10)).until(lease::held);
        }
    }
}
