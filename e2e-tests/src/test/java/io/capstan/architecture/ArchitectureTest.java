package io.capstan.architecture;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The rules of {@link Architecture} over every module this one sees: config, certs, cluster, broker, operator, cli, console. */
class ArchitectureTest {
    static JavaClasses capstan;

    @BeforeAll
    static void importClasses() {
        capstan = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("io.capstan.config", "io.capstan.certs", "io.capstan.cluster", "io.capstan.broker",
                        "io.capstan.operator", "io.capstan.cli", "io.capstan.console");
        org.assertj.core.api.Assertions.assertThat(capstan.containPackage("io.capstan.operator.reconcile")).isTrue();
    }

    @Test
    void modulesDependOnlyDownwards() {
        Architecture.modules("io.capstan").check(capstan);
    }

    @Test
    void brokerPackagesDependOnlyDownwards() {
        Architecture.brokerPackages("io.capstan").check(capstan);
    }

    @Test
    void noModuleHasPackageCycles() {
        Architecture.noCycles("io.capstan").check(capstan);
    }
}
