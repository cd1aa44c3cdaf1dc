package dev.flinkrwkv.jobs;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

/**
 * The jobs module's layers, as docs/architecture.md draws them: each job package (its pipeline and its command)
 * stands on the shared packages and on no other job; {@code cli} parses arguments and runs a command without
 * knowing any (the list of commands is {@link Main}'s); {@code runtime} runs any job's topology without knowing
 * which; {@code format}, {@code io} and {@code kafka} know records, files and topics, not jobs; and the library
 * knows no job at all.
 */
class LayeringTest {
    private static final String ROOT = "dev.flinkrwkv.jobs";
    private static final String[] JOBS = {"scorelogs", "enrich", "generate", "evallogs", "fit", "demo", "bench", "tools"};

    private static JavaClasses classes;

    @BeforeAll
    static void importClasses() {
        classes = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("dev.flinkrwkv");
    }

    private static String pkg(String name) {
        return ROOT + "." + name + "..";
    }

    private static String[] packages(String... names) {
        return Arrays.stream(names).map(LayeringTest::pkg).toArray(String[]::new);
    }

    /** The job packages and the command list: what only a job or {@link Main} may know. */
    private static String[] jobsAndRegistry() {
        String[] p = Arrays.copyOf(packages(JOBS), JOBS.length + 1);
        p[JOBS.length] = ROOT;  // Main, exactly this package
        return p;
    }

    @Test
    void packagesHaveNoCycles() {
        slices().matching(ROOT + ".(*)..").should().beFreeOfCycles().check(classes);
    }

    @Test
    void noJobPackageUsesAnother() {
        for (String job : JOBS) {
            String[] others = Arrays.stream(JOBS).filter(j -> !j.equals(job)).map(LayeringTest::pkg).toArray(String[]::new);
            noClasses().that().resideInAPackage(pkg(job)).should().dependOnClassesThat().resideInAnyPackage(others)
                    .check(classes);
        }
    }

    @Test
    void cliKnowsNoJobNorTheCommandList() {
        noClasses().that().resideInAPackage(pkg("cli")).should().dependOnClassesThat().resideInAnyPackage(jobsAndRegistry())
                .check(classes);
    }

    @Test
    void runtimeRunsAnyJobWithoutKnowingItsCommands() {
        String[] above = Arrays.copyOf(jobsAndRegistry(), JOBS.length + 3);
        above[JOBS.length + 1] = pkg("cli");
        above[JOBS.length + 2] = pkg("logs");
        noClasses().that().resideInAPackage(pkg("runtime")).should().dependOnClassesThat().resideInAnyPackage(above)
                .check(classes);
    }

    @Test
    void formatIoKafkaAndLogsKnowNoJobRuntimeOrCli() {
        String[] above = Arrays.copyOf(jobsAndRegistry(), JOBS.length + 3);
        above[JOBS.length + 1] = pkg("runtime");
        above[JOBS.length + 2] = pkg("cli");
        noClasses().that().resideInAnyPackage(packages("format", "io", "kafka", "logs")).should().dependOnClassesThat()
                .resideInAnyPackage(above).check(classes);
    }

    @Test
    void recordFormatsAreTheBottomLayer() {
        noClasses().that().resideInAPackage(pkg("format")).should().dependOnClassesThat()
                .resideInAnyPackage(packages("io", "kafka", "logs")).check(classes);
    }

    @Test
    void theOperatorLibraryKnowsNoJob() {
        noClasses().that().resideOutsideOfPackage(ROOT + "..").should().dependOnClassesThat().resideInAPackage(ROOT + "..")
                .check(classes);
    }
}
