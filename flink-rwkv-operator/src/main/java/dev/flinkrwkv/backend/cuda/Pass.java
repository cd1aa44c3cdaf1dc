package dev.flinkrwkv.backend.cuda;

import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUstream;

/**
 * One step being run: the kernels, the session's stream and workspace, the rows (numStates states times
 * tokensPerState tokens each) and where the states are (a gathered buffer, or the resident pool with a
 * slot table). The layer classes express the math through these helpers.
 */
final class Pass {
    final GpuModel m;
    final Kernels k;
    final CUstream stream;
    final Workspace ws;
    int numStates;
    int tokensPerState;
    int n;
    CUdeviceptr states;
    CUdeviceptr slots;

    Pass(GpuModel m, Kernels k, CUstream stream, Workspace ws) {
        this.m = m;
        this.k = k;
        this.stream = stream;
        this.ws = ws;
    }

    void set(CUdeviceptr states, CUdeviceptr slots, int numStates, int tokensPerState) {
        this.states = states;
        this.slots = slots;
        this.numStates = numStates;
        this.tokensPerState = tokensPerState;
        this.n = numStates * tokensPerState;
    }

    /** Float offset of layer {@code layer}'s part of a state. */
    int layerOffset(int layer) {
        return layer * m.vectorsPerLayer * m.c;
    }

    /** Token shift of a sub-block: xn = LN(x), prev = the state slot (unit {@code slotInLayer} of C floats) or the previous row. */
    void shift(int slotInLayer, int layer, CUdeviceptr lnW, CUdeviceptr lnB) {
        k.layerNorm(stream, ws.x, ws.xn, lnW, lnB, n, m.c, GpuModel.LN_EPS);
        k.shift(stream, ws.xn, ws.prev, states, slots, m.stateSize, layerOffset(layer) + slotInLayer * m.c, m.c,
                tokensPerState, numStates);
    }

    /** y = W · x for every row, packed inputs and outputs. */
    void mm(DeviceMatrix w, CUdeviceptr x, CUdeviceptr y) {
        k.matmul(stream, w, x, 0, w.cols(), y, 0, w.rows(), n);
    }

    /** An element-wise op over n x C values. */
    void ew(int op, CUdeviceptr out, CUdeviceptr a, CUdeviceptr b, CUdeviceptr d, CUdeviceptr vec) {
        k.elementwise(stream, op, n * m.c, m.c, out, a, b, d, vec);
    }

    /** An element-wise op over n x {@code width} values. */
    void ewWide(int op, int width, CUdeviceptr out, CUdeviceptr a, CUdeviceptr b, CUdeviceptr d, CUdeviceptr vec) {
        k.elementwise(stream, op, n * width, width, out, a, b, d, vec);
    }

    /** A low-rank projection dst = down · f(up · in), f an element-wise op or -1 for none. */
    void lowRank(DeviceMatrix up, DeviceMatrix down, CUdeviceptr in, CUdeviceptr dst, int activation) {
        mm(up, in, ws.hidden);
        if (activation >= 0) {
            ewWide(activation, up.rows(), ws.hidden, ws.hidden, Kernels.NULL, Kernels.NULL, Kernels.NULL);
        }
        mm(down, ws.hidden, dst);
    }

    void addResidual(CUdeviceptr delta) {
        ew(Kernels.OP_ADD, ws.x, ws.x, delta, Kernels.NULL, Kernels.NULL);
    }
}
