package io.capstan.operator.storage;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.operator.spec.SpecProblem;
import io.capstan.operator.storage.VolumePlan.Claim;
import io.capstan.operator.storage.VolumePlan.Decision;
import io.capstan.operator.storage.VolumePlan.Phase;
import io.capstan.operator.storage.VolumePlan.Template;
import io.fabric8.kubernetes.api.model.Quantity;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

class VolumePlanTest {
    private static final Template TEN = new Template("10Gi", null);

    private static Claim bound(String name, String requested, String capacity, String... conditions) {
        return new Claim(name, "standard", requested, capacity, List.of(conditions));
    }

    private static List<Claim> three(String requested, String capacity) {
        return List.of(bound("data-c-0", requested, capacity), bound("data-c-1", requested, capacity), bound("data-c-2", requested, capacity));
    }

    @Test
    void aNewClusterRendersTheSpecAndHasNothingToResize() {
        Decision d = VolumePlan.decide("20Gi", "fast", null, List.of());
        assertThat(d.template()).isEqualTo(new Template("20Gi", "fast"));
        assertThat(d.resize()).isEmpty();
        assertThat(d.refused()).isEmpty();
        assertThat(d.phase()).isEqualTo(Phase.Ready);
        assertThat(d.message()).isEqualTo("no volumes yet");
    }

    @Test
    void volumesAtTheSpecsSizeAreReady() {
        Decision d = VolumePlan.decide("10Gi", null, TEN, three("10Gi", "10Gi"));
        assertThat(d.resize()).isEmpty();
        assertThat(d.phase()).isEqualTo(Phase.Ready);
        assertThat(d.message()).isEqualTo("3 of 3 volumes at their size");
    }

    @Test
    void aLargerSizeResizesEveryClaimAndKeepsTheStatefulSetsTemplate() {
        Decision d = VolumePlan.decide("20Gi", null, TEN, three("10Gi", "10Gi"));
        assertThat(d.template()).as("the API server refuses any change to volumeClaimTemplates").isEqualTo(TEN);
        assertThat(d.resize()).isEqualTo(Map.of("data-c-0", "20Gi", "data-c-1", "20Gi", "data-c-2", "20Gi"));
        assertThat(d.refused()).isEmpty();
        assertThat(d.phase()).isEqualTo(Phase.Expanding);
        assertThat(d.message()).startsWith("0 of 3 volumes at their size; data-c-0: resizing from 10Gi to 20Gi");
    }

    @Test
    void claimsStillGrowingAreReportedWithTheirConditions() {
        List<Claim> claims = List.of(bound("data-c-0", "20Gi", "20Gi"), bound("data-c-1", "20Gi", "10Gi", "Resizing"),
                bound("data-c-2", "20Gi", "20Gi", "FileSystemResizePending"));
        Decision d = VolumePlan.decide("20Gi", null, TEN, claims);
        assertThat(d.resize()).isEmpty();
        assertThat(d.phase()).isEqualTo(Phase.Expanding);
        assertThat(d.message()).isEqualTo("1 of 3 volumes at their size; data-c-1: 10Gi of 20Gi (Resizing); data-c-2: 20Gi of 20Gi"
                + " (FileSystemResizePending), the file system grows when its broker's pod restarts");
    }

    @Test
    void grownVolumesAreReadyThoughTheTemplateKeepsItsSize() {
        Decision d = VolumePlan.decide("20Gi", null, TEN, three("20Gi", "20Gi"));
        assertThat(d.phase()).isEqualTo(Phase.Ready);
        assertThat(d.template()).isEqualTo(TEN);
    }

    @Test
    void aNewBrokersClaimFromTheOldTemplateIsResizedToo() {
        List<Claim> claims = new ArrayList<>(three("20Gi", "20Gi"));
        claims.add(bound("data-c-3", "10Gi", "10Gi"));
        Decision d = VolumePlan.decide("20Gi", null, TEN, claims);
        assertThat(d.resize()).isEqualTo(Map.of("data-c-3", "20Gi"));
    }

    @Test
    void equalQuantitiesInOtherUnitsAreNotAResize() {
        assertThat(VolumePlan.decide("10240Mi", null, TEN, three("10Gi", "10Gi")).resize()).isEmpty();
        assertThat(VolumePlan.decide("11G", null, TEN, three("10Gi", "10Gi")).resize()).as("11 GB > 10 GiB").hasSize(3);
        assertThat(VolumePlan.decide("10G", null, TEN, three("10Gi", "10Gi")).refused()).as("10 GB < 10 GiB")
                .extracting(SpecProblem::field).containsExactly("spec.storage.size");
    }

    @Test
    void aSmallerSizeIsRefusedNamingTheFieldAndTheSizeToGoBackTo() {
        Decision d = VolumePlan.decide("5Gi", null, TEN, three("10Gi", "10Gi"));
        assertThat(d.resize()).isEmpty();
        assertThat(d.template()).isEqualTo(TEN);
        assertThat(d.phase()).isEqualTo(Phase.Refused);
        assertThat(d.refused()).containsExactly(new SpecProblem("spec.storage.size",
                "is 5Gi, smaller than the brokers' volumes (10Gi); volumes cannot shrink; set it back to 10Gi or more"));
        assertThat(d.message()).startsWith("spec.storage.size: is 5Gi");
    }

    @Test
    void shrinkingIsMeasuredAgainstTheLargestVolumeNotTheTemplate() {
        Decision d = VolumePlan.decide("15Gi", null, TEN, three("20Gi", "20Gi"));
        assertThat(d.refused()).extracting(SpecProblem::message).containsExactly(
                "is 15Gi, smaller than the brokers' volumes (20Gi); volumes cannot shrink; set it back to 20Gi or more");
    }

    @Test
    void anotherClassIsRefusedAndNothingIsResized() {
        Decision d = VolumePlan.decide("20Gi", "fast", TEN, three("10Gi", "10Gi"));
        assertThat(d.resize()).isEmpty();
        assertThat(d.phase()).isEqualTo(Phase.Refused);
        assertThat(d.refused()).extracting(SpecProblem::field).containsExactly("spec.storage.storageClassName");
        assertThat(d.refused().get(0).message()).startsWith("is fast but the brokers' volumes are of class standard");
    }

    @Test
    void theTemplatesClassCountsBeforeTheClaims() {
        Decision d = VolumePlan.decide("10Gi", "standard", new Template("10Gi", "fast"), List.of());
        assertThat(d.refused()).extracting(SpecProblem::field).containsExactly("spec.storage.storageClassName");
    }

    @Test
    void noClassInTheSpecMeansWhateverTheVolumesHave() {
        assertThat(VolumePlan.decide("10Gi", null, TEN, three("10Gi", "10Gi")).refused()).isEmpty();
        assertThat(VolumePlan.decide("10Gi", "standard", TEN, three("10Gi", "10Gi")).refused()).isEmpty();
    }

    @Test
    void anUnboundClaimIsReportedButIsNotExpanding() {
        List<Claim> claims = List.of(bound("data-c-0", "10Gi", "10Gi"), bound("data-c-1", "10Gi", null));
        Decision d = VolumePlan.decide("10Gi", null, TEN, claims);
        assertThat(d.phase()).isEqualTo(Phase.Ready);
        assertThat(d.message()).isEqualTo("1 of 2 volumes at their size; data-c-1: not bound yet");
    }

    @Property
    void neverShrinksNeverTouchesTheTemplateAndRefusesOnlyWhatCannotBeDone(@ForAll("sizes") String size,
            @ForAll("claimSets") List<Claim> claims, @ForAll("classes") String storageClass) {
        Decision d = VolumePlan.decide(size, storageClass, TEN, claims);
        assertThat(d.template()).isEqualTo(TEN);
        for (var e : d.resize().entrySet()) {
            Claim c = claims.stream().filter(x -> x.name().equals(e.getKey())).findFirst().orElseThrow();
            assertThat(bytes(e.getValue())).isGreaterThan(bytes(c.requested()));
        }
        boolean shrink = claims.stream().anyMatch(c -> bytes(size).compareTo(bytes(c.requested())) < 0) || bytes(size).compareTo(bytes("10Gi")) < 0;
        // the template names no class: the volumes' class is the claims' (all "standard"), unknown without claims
        boolean otherClass = storageClass != null && !claims.isEmpty() && !storageClass.equals("standard");
        assertThat(d.refused().isEmpty()).isEqualTo(!shrink && !otherClass);
        if (!d.refused().isEmpty()) {
            assertThat(d.resize()).isEmpty();
            assertThat(d.phase()).isEqualTo(Phase.Refused);
        } else {
            assertThat(d.resize().keySet()).containsExactlyInAnyOrderElementsOf(claims.stream()
                    .filter(c -> bytes(size).compareTo(bytes(c.requested())) > 0).map(Claim::name).toList());
        }
    }

    @Provide
    Arbitrary<String> sizes() {
        return Arbitraries.of("5Gi", "10Gi", "10240Mi", "11G", "15Gi", "20Gi", "1Ti");
    }

    @Provide
    Arbitrary<String> classes() {
        return Arbitraries.of("standard", "fast").injectNull(0.4);
    }

    @Provide
    Arbitrary<List<Claim>> claimSets() {
        Arbitrary<String> requested = Arbitraries.of("10Gi", "15Gi", "20Gi");
        return requested.list().ofMinSize(0).ofMaxSize(5).map(rs -> {
            List<Claim> claims = new ArrayList<>();
            for (int i = 0; i < rs.size(); i++) {
                claims.add(bound("data-c-" + i, rs.get(i), i % 2 == 0 ? rs.get(i) : null));
            }
            return claims;
        });
    }

    private static java.math.BigDecimal bytes(String q) {
        return Quantity.getAmountInBytes(new Quantity(q));
    }
}
