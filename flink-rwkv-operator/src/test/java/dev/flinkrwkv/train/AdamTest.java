package dev.flinkrwkv.train;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AdamTest {
    @Test
    void weightDecayShrinksTheChosenParametersEvenWithZeroGradient() {
        double[] params = {1.0, -2.0, 3.0};
        double[] zero = new double[3];
        Adam adam = Adam.forRwkv(3);
        adam.step(params, zero, 0.01, 1.0);
        assertEquals(1.0, params[0], 0.0);  // no decay by default: a zero gradient leaves everything
        adam.setWeightDecay(0.5, new boolean[] {true, true, false});
        for (int s = 0; s < 10; s++) {
            adam.step(params, zero, 0.01, 1.0);
        }
        double shrink = Math.pow(1 - 0.01 * 0.5, 10);
        assertEquals(1.0 * shrink, params[0], 1e-12);
        assertEquals(-2.0 * shrink, params[1], 1e-12);
        assertEquals(3.0, params[2], 0.0);
        assertThrows(IllegalArgumentException.class, () -> adam.setWeightDecay(-1, new boolean[3]));
        assertThrows(IllegalArgumentException.class, () -> adam.setWeightDecay(0.1, new boolean[2]));
    }

    @Test
    void theDecayedParametersAreTheWeightMatrices() {
        Rwkv7Params p = new Rwkv7Params(Rwkv7Shape.of(32, 1, 16));
        boolean[] flags = p.weightMatrices();
        int decayed = 0;
        for (ParamTensor t : p.tensors()) {
            boolean matrix = t.name().endsWith(".weight") && t.ne().length == 2 && t.ne()[0] > 1 && t.ne()[1] > 1;
            for (int i = t.offset(); i < t.offset() + t.size(); i++) {
                assertEquals(matrix, flags[i], t.name());
            }
            decayed += matrix ? 1 : 0;
        }
        assertTrue(flags[p.emb] && flags[p.head]);
        assertFalse(flags[p.lnOutB]);
        assertEquals(2 + 6, decayed);  // emb, head; receptance, key, value, output, ffn key and value
    }
}
