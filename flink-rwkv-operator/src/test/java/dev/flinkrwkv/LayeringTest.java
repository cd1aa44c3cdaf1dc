package dev.flinkrwkv;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.apache.flink.annotation.Internal;
import org.apache.flink.annotation.PublicEvolving;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

/**
 * The library's layers, as docs/architecture.md draws them: the engine (model files, storage types, math,
 * the RWKV versions, sampling, tokenizers, training) runs without Flink and without a GPU library, so it can
 * be read, tested and embedded on its own; Flink enters in {@code state} and {@code operator}, JCuda only in
 * {@code backend.cuda}; the matrix kernels know nothing of RWKV; and no two packages depend on each other.
 * Every public class of the Flink-facing packages says whether users may build on it ({@code @PublicEvolving})
 * or not ({@code @Internal}), as Flink's own connectors do; docs/api.md lists the public ones.
 */
class LayeringTest {
    private static final String[] ENGINE = {
        "dev.flinkrwkv.tensor..", "dev.flinkrwkv.model..", "dev.flinkrwkv.math..", "dev.flinkrwkv.rwkv..", "dev.flinkrwkv.sample..",
        "dev.flinkrwkv.tokenize..", "dev.flinkrwkv.train.."
    };

    private static JavaClasses classes;

    @BeforeAll
    static void importClasses() {
        classes = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("dev.flinkrwkv");
    }

    @Test
    void theEngineNeedsNeitherFlinkNorJcuda() {
        noClasses().that().resideInAnyPackage(ENGINE)
                .should().dependOnClassesThat().resideInAnyPackage("org.apache.flink..", "jcuda..")
                .check(classes);
    }

    @Test
    void onlyTheCudaBackendUsesJcuda() {
        noClasses().that().resideOutsideOfPackage("dev.flinkrwkv.backend.cuda..")
                .should().dependOnClassesThat().resideInAnyPackage("jcuda..")
                .check(classes);
    }

    /** So a job on the CPU loads no JCuda class: the CUDA backend is found as a service (Backends). */
    @Test
    void nothingNamesTheCudaBackendOutsideIt() {
        noClasses().that().resideOutsideOfPackage("dev.flinkrwkv.backend.cuda..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.flinkrwkv.backend.cuda..")
                .check(classes);
    }

    @Test
    void theMatrixKernelsKnowNoRwkv() {
        noClasses().that().resideInAnyPackage("dev.flinkrwkv.tensor..", "dev.flinkrwkv.math..", "dev.flinkrwkv.model..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.flinkrwkv.rwkv..", "dev.flinkrwkv.train..",
                        "dev.flinkrwkv.operator..", "dev.flinkrwkv.state..", "dev.flinkrwkv.backend..")
                .check(classes);
    }

    /**
     * The file format knows no version's tensors: which tensors stay unquantized comes from the version
     * specs as a parameter of the quantizer, and random models are written from the specs in {@code rwkv}.
     */
    @Test
    void theFileFormatKnowsNoVersionSpec() {
        noClasses().that().resideInAPackage("dev.flinkrwkv.model..")
                .should().dependOnClassesThat().resideInAPackage("dev.flinkrwkv.rwkv..")
                .check(classes);
    }

    /** RWKV-7's state kernels live with RWKV-7 ({@code rwkv.Wkv7}), not among the matrix kernels. */
    @Test
    void theMathPackageKnowsNoRwkvVersion() {
        noClasses().that().resideInAPackage("dev.flinkrwkv.math..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.flinkrwkv.rwkv..", "dev.flinkrwkv.train..")
                .orShould().haveSimpleNameContaining("Wkv")
                .check(classes);
    }

    /** The CUDA backend reads state layouts and tensor slabs from the version specs, not copies of them. */
    @Test
    void theCudaBackendReadsTheSpecs() {
        classes().that().haveSimpleName("GpuModel").should().dependOnClassesThat().haveSimpleName("RwkvSpec")
                .check(classes);
        classes().that().haveSimpleName("TimeMix7").should().dependOnClassesThat().haveSimpleName("Rwkv7Spec")
                .check(classes);
    }

    /** The storage types sit under both the file format and the kernels, which both use them. */
    @Test
    void theStorageTypesKnowNeitherFilesNorKernels() {
        noClasses().that().resideInAPackage("dev.flinkrwkv.tensor..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.flinkrwkv.model..", "dev.flinkrwkv.math..")
                .check(classes);
    }

    @Test
    void theLibraryKnowsNoJob() {
        noClasses().should().dependOnClassesThat().resideInAnyPackage("dev.flinkrwkv.jobs..").check(classes);
    }

    @Test
    void everyPublicFlinkFacingClassIsMarkedPublicOrInternal() {
        classes().that().resideInAnyPackage("dev.flinkrwkv.operator..", "dev.flinkrwkv.state..")
                .and().arePublic().and().areTopLevelClasses()
                .should().beAnnotatedWith(PublicEvolving.class).orShould().beAnnotatedWith(Internal.class)
                .check(LayeringTest.classes);
    }

    @Test
    void packagesHaveNoCycles() {
        slices().matching("dev.flinkrwkv.(*)..").should().beFreeOfCycles().check(classes);
    }
}
