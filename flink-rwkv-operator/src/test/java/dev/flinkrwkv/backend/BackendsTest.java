package dev.flinkrwkv.backend;

import dev.flinkrwkv.SharedData;
import dev.flinkrwkv.rwkv.RwkvModel;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Backend choice: auto falls back to the CPU without a GPU and logs one line saying why, cuda then fails in
 * one line with the reason, names parse.
 */
class BackendsTest {
    static RwkvModel model;

    @BeforeAll
    static void load() throws IOException {
        model = RwkvModel.load(SharedData.tinyModel("tiny-rwkv-5v2-730K-FP32.bin"));
    }

    @Test
    void autoRunsOnTheCpuWithoutAGpu() {
        assumeFalse(Backends.cudaAvailable(), "a CUDA GPU is present: the fallback is not exercised here");
        try (Backend b = Backends.open("auto", model)) {
            assertTrue(b instanceof CpuBackend, b.name());
            assertEquals("cpu", b.name());
        }
    }

    @Test
    void autoLogsOneLineWithTheReasonForTheCpu() {
        assumeFalse(Backends.cudaAvailable(), "a CUDA GPU is present: the fallback is not exercised here");
        Logger log = Logger.getLogger(Backends.class.getName());
        List<String> lines = new ArrayList<>();
        Handler h = new Handler() {
            @Override
            public void publish(LogRecord r) {
                lines.add(r.getMessage());
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        };
        log.addHandler(h);
        Backends.forgetLoggedFallbacks();
        try (Backend b = Backends.open(Device.AUTO, model, 2); Backend again = Backends.open(Device.AUTO, model, 1)) {
            assertEquals("cpu", b.name());
            assertEquals("cpu", again.name());
        } finally {
            log.removeHandler(h);
        }
        // one line for the process, however many backends it opens
        assertEquals(List.of("flink-rwkv: running on the CPU: no usable CUDA GPU: " + Backends.cudaStatus()), lines);
    }

    @Test
    void autoTakesTheGpuWhenThereIsOne() {
        assumeTrue(Backends.cudaAvailable(), "no CUDA driver/device: " + Backends.cudaStatus());
        try (Backend b = Backends.open("auto", model)) {
            assertTrue(b.name().startsWith("cuda:"), b.name());
        }
    }

    @Test
    void cudaWithoutAGpuFailsWithTheReason() {
        assumeFalse(Backends.cudaAvailable(), "a CUDA GPU is present");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Backends.open("cuda", model));
        assertTrue(e.getMessage().contains("no usable CUDA GPU"), e.getMessage());
        assertTrue(e.getMessage().contains(Backends.cudaStatus()), e.getMessage());
        assertTrue(e.getMessage().contains("--device auto"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }

    @Test
    void cpuIsAlwaysThere() {
        try (Backend b = Backends.open(Device.CPU, model)) {
            assertEquals("cpu", b.name());
        }
    }

    @Test
    void deviceNamesParse() {
        assertEquals(Device.AUTO, Device.parse("auto"));
        assertEquals(Device.CUDA, Device.parse(" CUDA "));
        assertEquals(Device.CPU, Device.parse("cpu"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Device.parse("gpu"));
        assertTrue(e.getMessage().contains("auto, cpu or cuda"), e.getMessage());
    }
}
