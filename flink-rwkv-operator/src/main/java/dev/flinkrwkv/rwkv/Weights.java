package dev.flinkrwkv.rwkv;

import dev.flinkrwkv.math.Matrix;
import dev.flinkrwkv.model.ModelFile;
import dev.flinkrwkv.model.ModelFormatException;
import dev.flinkrwkv.model.Tensor;

import java.util.Arrays;

/** Looks tensors up by name and checks their shapes, so that a malformed file fails at load, by name. */
final class Weights {
    private final ModelFile file;

    Weights(ModelFile file) {
        this.file = file;
    }

    ModelFile file() {
        return file;
    }

    boolean has(String name) {
        return file.has(name);
    }

    Tensor tensor(String name) throws ModelFormatException {
        return file.tensor(name);
    }

    /**
     * A parameter vector of exactly {@code n} values along ne0 (any further dimensions 1, as in (C) or
     * (C, 1, 1)), dequantized to float32.
     */
    float[] vector(String name, int n) throws ModelFormatException {
        Tensor t = file.tensor(name);
        if (t.ne(0) != n || t.elements() != n) {
            throw shape(t, "[" + n + "]");
        }
        return t.toFloats();
    }

    /**
     * A non-matrix parameter of exactly this shape (ggml order; missing trailing dimensions count as 1),
     * dequantized to float32 in its flat order.
     */
    float[] values(String name, int... ne) throws ModelFormatException {
        Tensor t = file.tensor(name);
        for (int i = 0; i < 3; i++) {
            if (t.ne(i) != (i < ne.length ? ne[i] : 1)) {
                throw shape(t, Arrays.toString(ne));
            }
        }
        return t.toFloats();
    }

    /** A 2-D matrix of {@code rows} rows of {@code cols} values (ggml ne = (cols, rows)), kept in its stored type. */
    Matrix matrix(String name, int cols, int rows) throws ModelFormatException {
        Tensor t = file.tensor(name);
        if (t.ne(0) != cols || t.rows() != rows || t.ne(2) != 1) {
            throw shape(t, "[" + cols + ", " + rows + "]");
        }
        return Matrix.of(t);
    }

    /** A 2-D tensor with ne0 = {@code cols} and any row count; returns that row count. */
    int rowsOf(String name, int cols) throws ModelFormatException {
        Tensor t = file.tensor(name);
        if (t.ne(0) != cols || t.ne(2) != 1) {
            throw shape(t, "[" + cols + ", *]");
        }
        return t.rows();
    }

    ModelFormatException shape(Tensor t, String expected) {
        String torchOrder = "";
        if (!file.format().equals("rwkv.cpp")) { // a checkpoint's user knows the PyTorch shape
            int[] s = t.shape();
            int[] r = new int[s.length];
            for (int i = 0; i < s.length; i++) {
                r[i] = s[s.length - 1 - i];
            }
            torchOrder = "; " + Arrays.toString(r) + " in PyTorch order, after the conversion to rwkv.cpp's layout";
        }
        return new ModelFormatException(file.path(), "tensor '" + t.name() + "' has shape " + Arrays.toString(t.shape())
                + " (ggml order" + torchOrder + "), expected " + expected);
    }
}
