package dev.flinkrwkv.backend.cuda;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The PTX packaged in the jar matches what the Java side launches: every kernel by name, with the same
 * parameter count and types. Runs without a GPU, so a kernel renamed or a parameter added on one side
 * fails here rather than on the GPU machine.
 */
class PtxResourceTest {
    private static final Pattern ENTRY = Pattern.compile("\\.visible \\.entry (\\w+)\\(([^)]*)\\)");
    private static final Pattern PARAM = Pattern.compile("\\.param \\.(\\w+) ");

    /** Entry name to signature letters (p: .u64 pointer, i: .u32, f: .f32) parsed from PTX text. */
    static Map<String, String> entries(String ptx) {
        Map<String, String> out = new LinkedHashMap<>();
        Matcher m = ENTRY.matcher(ptx);
        while (m.find()) {
            StringBuilder sig = new StringBuilder();
            Matcher p = PARAM.matcher(m.group(2));
            while (p.find()) {
                switch (p.group(1)) {
                    case "u64": sig.append('p'); break;
                    case "u32": sig.append('i'); break;
                    case "f32": sig.append('f'); break;
                    default: sig.append('?');
                }
            }
            out.put(m.group(1), sig.toString());
        }
        return out;
    }

    @ParameterizedTest
    @ValueSource(ints = {8, 9})
    void packagedPtxHasEveryKernelWithItsSignature(int ccMajor) {
        String resource = CudaDevice.ptxResource(ccMajor);
        String ptx = CudaDevice.readPtx(resource);
        assertTrue(ptx.contains(".target sm_" + ccMajor + "0"), resource + " targets sm_" + ccMajor + "0");
        Map<String, String> found = entries(ptx);
        assertEquals(Kernels.SIGNATURES, found, resource + ": kernels and signatures (name -> p/i/f per parameter)");
    }

    @Test
    void ptxVersionIsLoweredOnlyForOlderDrivers() {
        String ptx = "//\n.version 9.0\n.target sm_90\n.address_size 64\n";
        assertNull(CudaDevice.lowerVersion(ptx, 13000), "a CUDA 13.0 driver loads ISA 9.0 as is");
        assertTrue(CudaDevice.lowerVersion(ptx, 12040).contains("\n.version 8.4\n"));
        assertTrue(CudaDevice.lowerVersion(ptx, 12080).contains("\n.version 8.7\n"));
        assertTrue(CudaDevice.lowerVersion(ptx, 11080).contains("\n.version 7.8\n"));
        assertNull(CudaDevice.lowerVersion(ptx, 11020), "too old to know");
    }

    @Test
    void everyHeadSizeHasBothWkvKernels() {
        for (int s : Kernels.HEAD_SIZES) {
            assertTrue(Kernels.SIGNATURES.containsKey(Kernels.wkv5Name(s)));
            assertTrue(Kernels.SIGNATURES.containsKey(Kernels.wkv7Name(s)));
        }
    }
}
