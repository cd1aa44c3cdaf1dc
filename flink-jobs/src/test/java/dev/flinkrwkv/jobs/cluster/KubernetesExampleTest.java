package dev.flinkrwkv.jobs.cluster;

import org.junit.jupiter.api.Test;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * docker/kubernetes/score-logs.yaml, the FlinkDeployment example, without a Kubernetes cluster: it is valid
 * YAML (read with snakeyaml-engine, the YAML library Flink reads config.yaml with), every field it sets under
 * {@code spec} is a field of the operator's CRD with an allowed value (crd-fields.txt, taken from the CRD),
 * and it runs what the image holds: the job jar's path and main class, the model on the mounted volume.
 */
class KubernetesExampleTest {
    static final Path DIR = Path.of("..", "docker", "kubernetes");

    @Test
    void theFlinkDeploymentUsesOnlyFieldsOfTheCrd() throws Exception {
        Map<String, Object> deployment = flinkDeployment();
        assertEquals("flink.apache.org/v1beta1", deployment.get("apiVersion"));
        Map<String, Set<String>> crd = crdFields();
        Map<String, Object> used = new LinkedHashMap<>();
        flatten("spec", deployment.get("spec"), used);
        assertFalse(used.isEmpty());
        for (Map.Entry<String, Object> e : used.entrySet()) {
            assertTrue(crd.containsKey(e.getKey()), e.getKey() + " is not a FlinkDeployment field (crd-fields.txt)");
            Set<String> allowed = crd.get(e.getKey());
            if (!allowed.isEmpty()) {
                assertTrue(allowed.contains(String.valueOf(e.getValue())), e.getKey() + ": " + e.getValue() + " is not one of " + allowed);
            }
        }
    }

    @Test
    void itRunsTheJobJarsScoreLogsOnTheMountedModel() throws Exception {
        Map<String, Object> spec = map(flinkDeployment().get("spec"));
        Map<String, Object> job = map(spec.get("job"));
        assertEquals("local:///opt/flink/usrlib/flink-rwkv-job.jar", job.get("jarURI"), "where docker/Dockerfile puts the job jar");
        Class.forName(String.valueOf(job.get("entryClass")));  // a class of ours
        List<?> args = assertInstanceOf(List.class, job.get("args"));
        String model = String.valueOf(args.get(args.indexOf("--model") + 1));
        Map<String, Object> container = map(((List<?>) map(map(spec.get("podTemplate")).get("spec")).get("containers")).get(0));
        assertEquals("flink-main-container", container.get("name"), "the operator merges its pod template by this name");
        boolean mounted = false;
        for (Object m : (List<?>) container.get("volumeMounts")) {
            mounted |= model.startsWith(map(m).get("mountPath") + "/");
        }
        assertTrue(mounted, "--model " + model + " is not on a mounted volume");
        Map<String, Object> conf = map(spec.get("flinkConfiguration"));
        for (Map.Entry<String, Object> e : conf.entrySet()) {
            // older CRDs type flinkConfiguration as a map of strings: "2", not 2
            assertInstanceOf(String.class, e.getValue(), e.getKey() + " must be a string");
        }
        assertEquals("--add-modules jdk.incubator.vector", conf.get("env.java.opts.taskmanager"));
        assertFalse(conf.containsKey("env.java.opts.all") || conf.containsKey("env.java.default-opts.all"),
                "the Java 17 flags of Flink and the operator live there; setting them would replace those");
    }

    /** Paths under spec down to scalars and lists; flinkConfiguration and podTemplate are free-form (a map; a Pod). */
    private static void flatten(String path, Object value, Map<String, Object> out) {
        if (value instanceof Map<?, ?> m && !path.equals("spec.flinkConfiguration") && !path.equals("spec.podTemplate")) {
            for (Map.Entry<?, ?> e : m.entrySet()) {
                flatten(path + "." + e.getKey(), e.getValue(), out);
            }
        } else {
            out.put(path, value instanceof Map || value instanceof List ? "" : value);
        }
    }

    /** crd-fields.txt: {@code path} or {@code path = a | b}, a path mapped to its allowed values (none: any). */
    private static Map<String, Set<String>> crdFields() throws Exception {
        Map<String, Set<String>> fields = new LinkedHashMap<>();
        for (String line : Files.readAllLines(DIR.resolve("crd-fields.txt"))) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            String[] f = line.split("=", 2);
            Set<String> values = f.length == 1 ? Set.of() : Set.of(f[1].trim().split("\\s*\\|\\s*"));
            fields.put(f[0].trim(), values);
        }
        return fields;
    }

    private static Map<String, Object> flinkDeployment() throws Exception {
        List<Map<String, Object>> docs = new ArrayList<>();
        for (Object d : new Load(LoadSettings.builder().build()).loadAllFromString(Files.readString(DIR.resolve("score-logs.yaml")))) {
            docs.add(map(d));
        }
        return docs.stream().filter(d -> "FlinkDeployment".equals(d.get("kind"))).findFirst()
                .orElseThrow(() -> new AssertionError("no FlinkDeployment in score-logs.yaml"));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object o) {
        return (Map<String, Object>) assertInstanceOf(Map.class, o);
    }
}
