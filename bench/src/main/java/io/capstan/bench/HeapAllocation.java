package io.capstan.bench;

import com.sun.management.ThreadMXBean;
import com.sun.tools.attach.VirtualMachine;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;

/**
 * Bytes a broker JVM has allocated on its heap since it started, read from the JVM itself (the platform
 * ThreadMXBean's total, which counts threads that have ended too) over a local JMX agent started by the attach API.
 * Works the same for any JVM, so Capstan and Kafka are measured alike; attaching costs the target one idle thread.
 */
public final class HeapAllocation {
    private static final Map<Long, ThreadMXBean> BEANS = new ConcurrentHashMap<>();

    private HeapAllocation() {}

    /** Total bytes allocated by the JVM of {@code pid}; attaches on first use. */
    public static long allocatedBytes(long pid) {
        try {
            ThreadMXBean bean = BEANS.get(pid);
            if (bean == null) {
                bean = attach(pid);
                BEANS.put(pid, bean);
            }
            return bean.getTotalThreadAllocatedBytes();
        } catch (Exception e) {
            throw new IllegalStateException("cannot read the heap allocation of process " + pid + " (is it a JVM of this user?): " + e, e);
        }
    }

    private static ThreadMXBean attach(long pid) throws Exception {
        VirtualMachine vm = VirtualMachine.attach(String.valueOf(pid));
        String address;
        try {
            address = vm.startLocalManagementAgent();
        } finally {
            vm.detach();
        }
        JMXConnector connector = JMXConnectorFactory.connect(new JMXServiceURL(address));
        return ManagementFactory.newPlatformMXBeanProxy(connector.getMBeanServerConnection(), ManagementFactory.THREAD_MXBEAN_NAME, ThreadMXBean.class);
    }

    /** Forgets the connection to a process that has ended. */
    public static void forget(long pid) {
        BEANS.remove(pid);
    }

    static void requireAvailable() throws IOException {
        if (ModuleLayer.boot().findModule("jdk.attach").isEmpty()) {
            throw new IOException("the attach API (module jdk.attach) is missing: run the benchmark with a full JDK");
        }
    }
}
