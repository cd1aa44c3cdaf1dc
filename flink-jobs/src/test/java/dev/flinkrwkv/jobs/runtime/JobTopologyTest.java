package dev.flinkrwkv.jobs.runtime;

import dev.flinkrwkv.jobs.cli.Args;
import dev.flinkrwkv.jobs.cli.JobArgs;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.graph.StreamGraph;
import org.apache.flink.streaming.api.graph.StreamNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The job's graph is built from its options alone: no broker, no cluster, no client. */
class JobTopologyTest {
    @Test
    void theGraphIsSourceParsePipelineCountAndBothSinksWithStableUids(@TempDir Path tmp) {
        JobOptions o = JobArgs.parse("t", Args.parse(new String[] {"--input", tmp.resolve("in.log").toString(),
                "--output-dir", tmp.resolve("out").toString()}, 0));
        JobTopology topology = JobTopology.of(o, null);
        assertEquals(List.of("input: file " + tmp.resolve("in.log"), "output: files under " + tmp.resolve("out")
                        + " (exactly once: visible at each checkpoint)", "dead letters: files under " + tmp.resolve("out-dead-letters")
                        + " (exactly once: visible at each checkpoint)"), topology.describe());

        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        topology.addTo(env, new JobLauncherTest.CountPipeline());
        StreamGraph graph = env.getStreamGraph();
        Set<String> uids = graph.getStreamNodes().stream().map(StreamNode::getTransformationUID)
                .collect(Collectors.toSet());
        assertTrue(uids.containsAll(Set.of("parse", "count-out")), uids.toString());
        Set<String> names = graph.getStreamNodes().stream().map(StreamNode::getOperatorName)
                .collect(Collectors.toSet());
        assertTrue(names.contains("count") && names.stream().anyMatch(n -> n.contains("output"))
                && names.stream().anyMatch(n -> n.contains("dead-letters")), names.toString());
    }
}
