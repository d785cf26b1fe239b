package io.capstan.architecture;

import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.lang.ArchRule;

/**
 * The arrows between Capstan's modules and between the broker's packages, as rules over compiled classes. Each rule
 * takes the root package so that {@link ArchitectureRulesTest} can show it failing on classes that break it.
 */
public final class Architecture {
    private Architecture() {}

    /**
     * Modules: config (settings) and certs at the bottom; cluster (metadata, controller, planner) over nothing of ours;
     * broker and operator side by side over cluster and config, neither using the other; the web console (over the
     * Kafka Admin API only) used by the CLI and the operator; the CLI on top.
     */
    public static ArchRule modules(String root) {
        return layeredArchitecture().consideringOnlyDependenciesInLayers().withOptionalLayers(true)
                .layer("config").definedBy(root + ".config..")
                .layer("certs").definedBy(root + ".certs..")
                .layer("cluster").definedBy(root + ".cluster..")
                .layer("broker").definedBy(root + ".broker..")
                .layer("operator").definedBy(root + ".operator..")
                .layer("console").definedBy(root + ".console..")
                .layer("cli").definedBy(root + ".cli..")
                .whereLayer("cli").mayNotBeAccessedByAnyLayer()
                .whereLayer("operator").mayNotBeAccessedByAnyLayer()
                .whereLayer("broker").mayOnlyBeAccessedByLayers("cli")
                .whereLayer("cluster").mayOnlyBeAccessedByLayers("broker", "operator", "cli")
                .whereLayer("config").mayOnlyBeAccessedByLayers("broker", "operator", "cli")
                .whereLayer("certs").mayOnlyBeAccessedByLayers("broker", "operator", "cli")
                .whereLayer("console").mayOnlyBeAccessedByLayers("operator", "cli")
                .as("modules: cli -> {broker, operator} -> cluster, config, certs; console under cli and operator only;"
                        + " broker and operator never use each other");
    }

    /**
     * The broker's packages: the transport (net) over the Kafka API (kafka) over groups and replication over the log;
     * security is used by net, kafka and replica and uses none of them; admin (HTTP endpoints, metrics) reads the
     * others; only the root package (Broker, the wiring) sees everything.
     */
    public static ArchRule brokerPackages(String root) {
        String broker = root + ".broker";
        return layeredArchitecture().consideringOnlyDependenciesInLayers().withOptionalLayers(true)
                .layer("wiring").definedBy(broker)
                .layer("admin").definedBy(broker + ".admin..")
                .layer("net").definedBy(broker + ".net..")
                .layer("kafka").definedBy(broker + ".kafka..")
                .layer("group").definedBy(broker + ".group..")
                .layer("replica").definedBy(broker + ".replica..")
                .layer("log").definedBy(broker + ".log..")
                .layer("security").definedBy(broker + ".security..")
                .layer("trace").definedBy(broker + ".trace..")
                .whereLayer("admin").mayOnlyBeAccessedByLayers("wiring")
                .whereLayer("net").mayOnlyBeAccessedByLayers("wiring", "admin")
                .whereLayer("kafka").mayOnlyBeAccessedByLayers("wiring", "admin", "net")
                .whereLayer("group").mayOnlyBeAccessedByLayers("wiring", "admin", "kafka")
                .whereLayer("replica").mayOnlyBeAccessedByLayers("wiring", "admin", "kafka")
                .whereLayer("log").mayOnlyBeAccessedByLayers("wiring", "admin", "net", "kafka", "group", "replica")
                .whereLayer("security").mayOnlyBeAccessedByLayers("wiring", "net", "kafka", "replica")
                .whereLayer("trace").mayOnlyBeAccessedByLayers("wiring", "net", "kafka")
                .as("broker packages: net -> kafka -> {group, replica} -> log; security below net, kafka and replica; trace below net and kafka");
    }

    /** No cycles between the packages of a module, whatever the allowed arrows say. */
    public static ArchRule noCycles(String root) {
        return slices().matching(root + ".(*).(*)..").namingSlices("$1.$2").should().beFreeOfCycles()
                .as("no cycles between the packages of any module");
    }
}
