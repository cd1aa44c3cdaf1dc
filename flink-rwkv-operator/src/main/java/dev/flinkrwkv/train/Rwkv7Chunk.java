package dev.flinkrwkv.train;

import java.util.Arrays;

/**
 * The training passes of RWKV-7 over one chunk of up to T tokens of one sequence, in double precision
 * except for the matrix products and the WKV recurrence, whose precision its {@link MatrixProducts} and
 * {@link WkvRecurrence} choose.
 *
 * <p>{@link #forward} starts from a carried state (the previous chunk's final state, in rwkv.cpp's layout:
 * per layer ffn_xx, att_xx, then the H value-by-key WKV matrices), computes every token's next-token loss,
 * caches everything the backward pass needs, and leaves the chunk's final state in the carried state.
 * {@link #backward} then adds the gradient of the chunk's summed loss to a gradient array laid out like the
 * parameters. This is truncated backpropagation through time: the carried state is a constant of the chunk,
 * so no gradient flows into the previous chunk.
 *
 * <p>The computation runs layer by layer over all T tokens (the dense projections as T-row matrix products),
 * with only the WKV recurrence stepping through time. Its math is that of the inference engine
 * ({@code Rwkv7}, format doc §8), in double outside the products and the recurrence, so a trained model written as FP32 scores
 * the same up to float rounding. One instance holds the caches of one chunk and is used by one thread.
 */
final class Rwkv7Chunk {
    static final double LN_EPS = 1e-5;
    static final double GROUP_NORM_EPS = 64e-5;
    static final double KEY_NORM_EPS = 1e-12;
    /** The engine's float literal -0.606531 (about -e^-0.5): decay = exp(DECAY_SCALE * sigmoid(.)). */
    static final double DECAY_SCALE = -0.606531f;
    static final int R = 0, W = 1, K = 2, V = 3, A = 4, G = 5;

    private final Rwkv7Params model;
    private final int c, f, heads, s, vocab, capacity, layers, rankW, rankA, rankV, rankG, stateLayer;
    private final Cache[] cache;
    /** The matrix products, in double precision or float32 (see {@link MatrixProducts}). */
    private final MatrixProducts products;
    /** The WKV recurrence, in double precision or float32 (see {@link WkvRecurrence}). */
    private final WkvRecurrence wkv;

    // Top level caches.
    private final int[] inputs, targets;
    private final double[] ln0Hat, ln0Rstd, xFinal, outHat, outRstd, outX, probs, tokenLoss;
    private int count;

    // Backward scratch.
    private final double[] dx, dTmp, dHat, dLogits, dVFirst;
    private final double[][] dm = new double[6][];
    private final double[] dsx, dX, dz, dy2, dg, dLow, dr, dk, dv, dw, da, dkk, dk0, dvRaw, dyWkv, dHidden;

    /** The forward values of one layer over the chunk, T rows each. */
    private static final class Cache {
        double[] xIn, ln1Hat, ln1Rstd, x1, sx, r, gh, g, ah, a, wh, ws, w, k0, kkNorm, kk, k, vRaw, vh, vg, v,
                yWkv, gnHat, gnRstd, y2, rho, z, xMid, ln2Hat, ln2Rstd, x2, sx2, xk, hPre, hSq;
        final double[][] m = new double[6][];
    }

    /** A chunk in double precision throughout (the gradient check's path). */
    Rwkv7Chunk(Rwkv7Params model, int capacity) {
        this(model, capacity, MatrixProducts.exact(model), WkvRecurrence.exact(model.shape, capacity));
    }

    Rwkv7Chunk(Rwkv7Params model, int capacity, MatrixProducts products, WkvRecurrence wkv) {
        this.model = model;
        this.products = products;
        this.wkv = wkv;
        Rwkv7Shape sh = model.shape;
        this.c = sh.embed();
        this.f = sh.ffn();
        this.heads = sh.heads();
        this.s = sh.headSize();
        this.vocab = sh.vocab();
        this.layers = sh.layers();
        this.capacity = capacity;
        this.rankW = sh.decayRank();
        this.rankA = sh.aRank();
        this.rankV = sh.valueRank();
        this.rankG = sh.gateRank();
        this.stateLayer = sh.stateVectorsPerLayer() * c;
        int tc = capacity * c, th = capacity * heads;
        cache = new Cache[layers];
        for (int l = 0; l < layers; l++) {
            Cache y = new Cache();
            cache[l] = y;
            y.xIn = new double[tc];
            y.ln1Hat = new double[tc];
            y.ln1Rstd = new double[capacity];
            y.x1 = new double[tc];
            y.sx = new double[tc];
            for (int i = 0; i < 6; i++) {
                y.m[i] = new double[tc];
            }
            y.r = new double[tc];
            y.gh = new double[capacity * rankG];
            y.g = new double[tc];
            y.ah = new double[capacity * rankA];
            y.a = new double[tc];
            y.wh = new double[capacity * rankW];
            y.ws = new double[tc];
            y.w = new double[tc];
            y.k0 = new double[tc];
            y.kkNorm = new double[th];
            y.kk = new double[tc];
            y.k = new double[tc];
            y.vRaw = new double[tc];
            y.vh = l > 0 ? new double[capacity * rankV] : null;
            y.vg = l > 0 ? new double[tc] : null;
            y.v = new double[tc];
            y.yWkv = new double[tc];
            y.gnHat = new double[tc];
            y.gnRstd = new double[th];
            y.y2 = new double[tc];
            y.rho = new double[th];
            y.z = new double[tc];
            y.xMid = new double[tc];
            y.ln2Hat = new double[tc];
            y.ln2Rstd = new double[capacity];
            y.x2 = new double[tc];
            y.sx2 = new double[tc];
            y.xk = new double[tc];
            y.hPre = new double[capacity * f];
            y.hSq = new double[capacity * f];
        }
        inputs = new int[capacity];
        targets = new int[capacity];
        ln0Hat = new double[tc];
        ln0Rstd = new double[capacity];
        xFinal = new double[tc];
        outHat = new double[tc];
        outRstd = new double[capacity];
        outX = new double[tc];
        probs = new double[capacity * vocab];
        tokenLoss = new double[capacity];
        dx = new double[tc];
        dTmp = new double[tc];
        dHat = new double[tc];
        dLogits = new double[capacity * vocab];
        dVFirst = new double[tc];
        for (int i = 0; i < 6; i++) {
            dm[i] = new double[tc];
        }
        dsx = new double[tc];
        dX = new double[tc];
        dz = new double[tc];
        dy2 = new double[tc];
        dg = new double[tc];
        dLow = new double[capacity * Math.max(Math.max(rankW, rankA), Math.max(rankV, rankG))];
        dr = new double[tc];
        dk = new double[tc];
        dv = new double[tc];
        dw = new double[tc];
        da = new double[tc];
        dkk = new double[tc];
        dk0 = new double[tc];
        dvRaw = new double[tc];
        dyWkv = new double[tc];
        dHidden = new double[capacity * f];
    }

    int capacity() {
        return capacity;
    }

    /** The loss (nats) of token t of the last forward pass: -log p(target | inputs up to t); 0 without target. */
    double tokenLoss(int t) {
        return tokenLoss[t];
    }

    /**
     * Runs {@code n} tokens from {@code state} (updated in place to the chunk's final state). Token t's loss
     * is {@code -log p(target[t])}; a negative target has no loss. Returns the summed loss in nats.
     */
    double forward(int[] input, int[] target, int n, double[] state) {
        if (n < 1 || n > capacity) {
            throw new IllegalArgumentException("chunk of " + n + " tokens, capacity " + capacity);
        }
        double[] p = model.values;
        products.refresh(p);
        count = n;
        System.arraycopy(input, 0, inputs, 0, n);
        System.arraycopy(target, 0, targets, 0, n);
        double[] x0 = cache[0].xIn;
        for (int t = 0; t < n; t++) {
            System.arraycopy(p, model.emb + input[t] * c, dTmp, t * c, c);
        }
        Dense.normalize(dTmp, c, LN_EPS, ln0Hat, ln0Rstd, n);
        Dense.scaleShift(ln0Hat, p, model.ln0W, model.ln0B, x0, c, n);
        for (int l = 0; l < layers; l++) {
            double[] out = l + 1 < layers ? cache[l + 1].xIn : xFinal;
            layerForward(l, p, state, out);
        }
        Dense.normalize(xFinal, c, LN_EPS, outHat, outRstd, n);
        Dense.scaleShift(outHat, p, model.lnOutW, model.lnOutB, outX, c, n);
        products.mul(model.head, vocab, c, outX, probs, n);
        double loss = 0;
        for (int t = 0; t < n; t++) {
            int o = t * vocab;
            double max = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < vocab; i++) {
                max = Math.max(max, probs[o + i]);
            }
            double targetLogit = target[t] >= 0 ? probs[o + target[t]] : 0;
            double sum = 0;
            for (int i = 0; i < vocab; i++) {
                double e = Math.exp(probs[o + i] - max);
                probs[o + i] = e;
                sum += e;
            }
            double lse = max + Math.log(sum);
            tokenLoss[t] = target[t] >= 0 ? lse - targetLogit : 0;
            loss += tokenLoss[t];
            double inv = 1 / sum;
            for (int i = 0; i < vocab; i++) {
                probs[o + i] *= inv;
            }
        }
        return loss;
    }

    /**
     * One layer over the chunk. Its parts are methods of their own so that the JIT compiles each soon: one
     * method of the whole layer took it several seconds, while the steps ran slowly in the meantime.
     */
    private void layerForward(int l, double[] p, double[] state, double[] xOut) {
        Cache y = cache[l];
        Rwkv7Params.Layer q = model.layer[l];
        int n = count, so = l * stateLayer;
        timeMixInputs(y, q, p, state, so, n);
        keyAndValue(l, y, q, p, n);
        timeMixOutput(l, y, q, p, state, so, n);
        channelMix(y, q, p, state, so, xOut, n);
    }

    /** LayerNorm 1, token shift and the six mixes; receptance, gate, in-context learning rate a and decay w. */
    private void timeMixInputs(Cache y, Rwkv7Params.Layer q, double[] p, double[] state, int so, int n) {
        int tc = n * c;
        Dense.normalize(y.xIn, c, LN_EPS, y.ln1Hat, y.ln1Rstd, n);
        Dense.scaleShift(y.ln1Hat, p, q.ln1W, q.ln1B, y.x1, c, n);
        shiftDelta(y.x1, state, so + c, y.sx, n);
        for (int m = 0; m < 6; m++) {
            double[] out = y.m[m];
            int mu = q.mix + m * c;
            for (int t = 0; t < n; t++) {
                for (int i = 0; i < c; i++) {
                    out[t * c + i] = y.x1[t * c + i] + y.sx[t * c + i] * p[mu + i];
                }
            }
        }
        products.mul(q.receptance, c, c, y.m[R], y.r, n);

        products.mul(q.g1, rankG, c, y.m[G], y.gh, n);
        for (int i = 0; i < n * rankG; i++) {
            y.gh[i] = sigmoid(y.gh[i]);
        }
        products.mul(q.g2, c, rankG, y.gh, y.g, n);

        products.mul(q.a1, rankA, c, y.m[A], y.ah, n);
        products.mul(q.a2, c, rankA, y.ah, y.a, n);
        products.mul(q.w1, rankW, c, y.m[W], y.wh, n);
        for (int i = 0; i < n * rankW; i++) {
            y.wh[i] = Math.tanh(y.wh[i]);
        }
        products.mul(q.w2, c, rankW, y.wh, y.ws, n);
        for (int i = 0, ch = 0; i < tc; i++, ch = ch + 1 < c ? ch + 1 : 0) {
            y.a[i] = sigmoid(y.a[i] + p[q.a0 + ch]);
            y.ws[i] = sigmoid(y.ws[i] + p[q.w0 + ch]);
            y.w[i] = Math.exp(DECAY_SCALE * y.ws[i]);
        }
    }

    /** The key, its normalized copy kk, the key scaled by a, and the value (toward layer 0's in later layers). */
    private void keyAndValue(int l, Cache y, Rwkv7Params.Layer q, double[] p, int n) {
        int tc = n * c;
        products.mul(q.key, c, c, y.m[K], y.k0, n);
        for (int t = 0; t < n; t++) {
            for (int h = 0; h < heads; h++) {
                int o = t * c + h * s;
                double sum = 0;
                for (int j = 0; j < s; j++) {
                    double v = y.k0[o + j] * p[q.kK + h * s + j];
                    y.kk[o + j] = v;
                    sum += v * v;
                }
                double norm = Math.max(Math.sqrt(sum), KEY_NORM_EPS);
                y.kkNorm[t * heads + h] = norm;
                for (int j = 0; j < s; j++) {
                    y.kk[o + j] /= norm;
                }
            }
        }
        for (int t = 0; t < n; t++) {
            for (int ch = 0, i = t * c; ch < c; ch++, i++) {
                y.k[i] = y.k0[i] * (1 + (y.a[i] - 1) * p[q.kA + ch]);
            }
        }

        products.mul(q.value, c, c, y.m[V], y.vRaw, n);
        if (l == 0) {
            System.arraycopy(y.vRaw, 0, y.v, 0, tc);
        } else {
            double[] vFirst = cache[0].v;
            products.mul(q.v1, rankV, c, y.m[V], y.vh, n);
            products.mul(q.v2, c, rankV, y.vh, y.vg, n);
            for (int i = 0, ch = 0; i < tc; i++, ch = ch + 1 < c ? ch + 1 : 0) {
                y.vg[i] = sigmoid(y.vg[i] + p[q.v0 + ch]);
                y.v[i] = y.vRaw[i] + (vFirst[i] - y.vRaw[i]) * y.vg[i];
            }
        }
    }

    /** The WKV recurrence, its group norm, the bonus term, the gate and the output projection plus residual. */
    private void timeMixOutput(int l, Cache y, Rwkv7Params.Layer q, double[] p, double[] state, int so, int n) {
        int tc = n * c;
        wkv.forward(l, n, y.kk, y.a, y.w, y.k, y.v, y.r, state, so + 2 * c, y.yWkv);
        Dense.normalize(y.yWkv, s, GROUP_NORM_EPS, y.gnHat, y.gnRstd, n * heads);
        Dense.scaleShift(y.gnHat, p, q.lnXW, q.lnXB, y.y2, c, n);
        for (int t = 0; t < n; t++) {
            for (int h = 0; h < heads; h++) {
                int o = t * c + h * s;
                double rho = 0;
                for (int j = 0; j < s; j++) {
                    rho += y.k[o + j] * y.r[o + j] * p[q.rK + h * s + j];
                }
                y.rho[t * heads + h] = rho;
                for (int i = 0; i < s; i++) {
                    y.y2[o + i] += y.v[o + i] * rho;
                }
            }
        }
        for (int i = 0; i < tc; i++) {
            y.z[i] = y.y2[i] * y.g[i];
        }
        products.mul(q.output, c, c, y.z, y.xMid, n);
        for (int i = 0; i < tc; i++) {
            y.xMid[i] += y.xIn[i];
        }
    }

    /** LayerNorm 2, token shift, the squared-ReLU channel mix plus residual; the carried state moves on. */
    private void channelMix(Cache y, Rwkv7Params.Layer q, double[] p, double[] state, int so, double[] xOut, int n) {
        int tc = n * c;
        Dense.normalize(y.xMid, c, LN_EPS, y.ln2Hat, y.ln2Rstd, n);
        Dense.scaleShift(y.ln2Hat, p, q.ln2W, q.ln2B, y.x2, c, n);
        shiftDelta(y.x2, state, so, y.sx2, n);
        for (int t = 0; t < n; t++) {
            for (int i = 0; i < c; i++) {
                y.xk[t * c + i] = y.x2[t * c + i] + y.sx2[t * c + i] * p[q.ffnXk + i];
            }
        }
        products.mul(q.ffnKey, f, c, y.xk, y.hPre, n);
        for (int i = 0; i < n * f; i++) {
            double h = Math.max(y.hPre[i], 0);
            y.hSq[i] = h * h;
        }
        products.mul(q.ffnValue, c, f, y.hSq, xOut, n);
        for (int i = 0; i < tc; i++) {
            xOut[i] += y.xMid[i];
        }

        // The carried state moves on to the end of this chunk.
        System.arraycopy(y.x2, (n - 1) * c, state, so, c);
        System.arraycopy(y.x1, (n - 1) * c, state, so + c, c);
    }

    /** {@code sx[t] = prev[t] - x[t]}, prev[0] from the carried state's slot, prev[t] = x[t-1] after that. */
    private void shiftDelta(double[] x, double[] state, int slot, double[] sx, int n) {
        for (int i = 0; i < c; i++) {
            sx[i] = state[slot + i] - x[i];
        }
        for (int i = c; i < n * c; i++) {
            sx[i] = x[i - c] - x[i];
        }
    }

    /** Adds the gradient of the last forward pass's summed loss to {@code grad} (the parameters' layout). */
    void backward(double[] grad) {
        double[] p = model.values;
        int n = count, tc = n * c;
        for (int t = 0; t < n; t++) {
            int o = t * vocab;
            for (int i = 0; i < vocab; i++) {
                dLogits[o + i] = targets[t] >= 0 ? probs[o + i] : 0;
            }
            if (targets[t] >= 0) {
                dLogits[o + targets[t]] -= 1;
            }
        }
        Arrays.fill(dTmp, 0, tc, 0);
        products.mulBackward(grad, model.head, vocab, c, outX, dLogits, dTmp, n);
        Dense.scaleShiftBackward(outHat, p, grad, model.lnOutW, model.lnOutB, dTmp, dHat, c, n);
        Arrays.fill(dx, 0, tc, 0);
        Dense.normalizeBackward(outHat, outRstd, dHat, c, dx, n);
        Arrays.fill(dVFirst, 0, tc, 0);
        for (int l = layers - 1; l >= 0; l--) {
            layerBackward(l, p, grad);
        }
        Dense.scaleShiftBackward(ln0Hat, p, grad, model.ln0W, model.ln0B, dx, dHat, c, n);
        Arrays.fill(dTmp, 0, tc, 0);
        Dense.normalizeBackward(ln0Hat, ln0Rstd, dHat, c, dTmp, n);
        for (int t = 0; t < n; t++) {
            int e = model.emb + inputs[t] * c;
            for (int i = 0; i < c; i++) {
                grad[e + i] += dTmp[t * c + i];
            }
        }
    }

    /** On entry {@link #dx} is the gradient of the layer's output; on exit, of its input. In parts, as the forward. */
    private void layerBackward(int l, double[] p, double[] grad) {
        Cache y = cache[l];
        Rwkv7Params.Layer q = model.layer[l];
        int n = count;
        channelMixBackward(y, q, p, grad, n);
        timeMixOutputBackward(l, y, q, p, grad, n);
        keyBackward(y, q, p, grad, n);
        timeMixInputsBackward(l, y, q, p, grad, n);
        tokenShiftBackward(y, q, p, grad, n);
    }

    /** The channel mix: the residual passes dx through unchanged; the branch adds to it. */
    private void channelMixBackward(Cache y, Rwkv7Params.Layer q, double[] p, double[] grad, int n) {
        int tc = n * c;
        Arrays.fill(dHidden, 0, n * f, 0);
        products.mulBackward(grad, q.ffnValue, c, f, y.hSq, dx, dHidden, n);
        for (int i = 0; i < n * f; i++) {
            // max rather than a branch on the sign: the same values, and no branch in the loop.
            dHidden[i] *= 2 * Math.max(y.hPre[i], 0);
        }
        Arrays.fill(dTmp, 0, tc, 0);
        products.mulBackward(grad, q.ffnKey, f, c, y.xk, dHidden, dTmp, n);
        for (int t = 0; t < n; t++) {
            for (int i = 0; i < c; i++) {
                int o = t * c + i;
                grad[q.ffnXk + i] += dTmp[o] * y.sx2[o];
                dsx[o] = dTmp[o] * p[q.ffnXk + i];
            }
        }
        shiftDeltaBackward(dTmp, dsx, dX, n);
        Dense.scaleShiftBackward(y.ln2Hat, p, grad, q.ln2W, q.ln2B, dX, dHat, c, n);
        Dense.normalizeBackward(y.ln2Hat, y.ln2Rstd, dHat, c, dx, n);
    }

    /** The output projection, gate, bonus term, group norm and the WKV recurrence. */
    private void timeMixOutputBackward(int l, Cache y, Rwkv7Params.Layer q, double[] p, double[] grad, int n) {
        int tc = n * c;
        Arrays.fill(dz, 0, tc, 0);
        products.mulBackward(grad, q.output, c, c, y.z, dx, dz, n);
        for (int i = 0; i < tc; i++) {
            dy2[i] = dz[i] * y.g[i];
            dg[i] = dz[i] * y.y2[i];
        }
        lowRankBackward(p, grad, q.g2, q.g1, rankG, dg, y.gh, y.m[G], dm[G], n, SIGMOID_MID);

        Arrays.fill(dr, 0, tc, 0);
        Arrays.fill(dk, 0, tc, 0);
        Arrays.fill(dv, 0, tc, 0);
        Arrays.fill(dw, 0, tc, 0);
        Arrays.fill(da, 0, tc, 0);
        Arrays.fill(dkk, 0, tc, 0);
        for (int t = 0; t < n; t++) {
            for (int h = 0; h < heads; h++) {
                int o = t * c + h * s;
                double rho = y.rho[t * heads + h], dRho = 0;
                for (int i = 0; i < s; i++) {
                    dv[o + i] += dy2[o + i] * rho;
                    dRho += dy2[o + i] * y.v[o + i];
                }
                for (int j = 0; j < s; j++) {
                    double rk = p[q.rK + h * s + j];
                    dk[o + j] += dRho * y.r[o + j] * rk;
                    dr[o + j] += dRho * y.k[o + j] * rk;
                    grad[q.rK + h * s + j] += dRho * y.k[o + j] * y.r[o + j];
                }
            }
        }
        Dense.scaleShiftBackward(y.gnHat, p, grad, q.lnXW, q.lnXB, dy2, dHat, c, n);
        Arrays.fill(dyWkv, 0, tc, 0);
        Dense.normalizeBackward(y.gnHat, y.gnRstd, dHat, s, dyWkv, n * heads);
        wkv.backward(l, dyWkv, dr, dw, dk, dv, dkk, da);
    }

    /** k = k0 * (1 + (a-1) k_a), kk = l2norm(k0 * k_k) per head, and the key projection. */
    private void keyBackward(Cache y, Rwkv7Params.Layer q, double[] p, double[] grad, int n) {
        int tc = n * c;
        for (int t = 0; t < n; t++) {
            for (int ch = 0, i = t * c; ch < c; ch++, i++) {
                double kA = p[q.kA + ch];
                dk0[i] = dk[i] * (1 + (y.a[i] - 1) * kA);
                da[i] += dk[i] * y.k0[i] * kA;
                grad[q.kA + ch] += dk[i] * y.k0[i] * (y.a[i] - 1);
            }
        }
        for (int t = 0; t < n; t++) {
            for (int h = 0; h < heads; h++) {
                int o = t * c + h * s;
                double norm = y.kkNorm[t * heads + h];
                double dot = 0;
                for (int j = 0; j < s; j++) {
                    dot += y.kk[o + j] * dkk[o + j];
                }
                // Below the clamp the norm is a constant, so the projection term drops out.
                boolean clamped = norm <= KEY_NORM_EPS;
                for (int j = 0; j < s; j++) {
                    double dPre = (dkk[o + j] - (clamped ? 0 : y.kk[o + j] * dot)) / norm;
                    int ch = h * s + j;
                    dk0[o + j] += dPre * p[q.kK + ch];
                    grad[q.kK + ch] += dPre * y.k0[o + j];
                }
            }
        }
        Arrays.fill(dm[K], 0, tc, 0);
        products.mulBackward(grad, q.key, c, c, y.m[K], dk0, dm[K], n);
    }

    /** Decay, in-context learning rate, value and receptance, into the mixes' gradients. */
    private void timeMixInputsBackward(int l, Cache y, Rwkv7Params.Layer q, double[] p, double[] grad, int n) {
        int tc = n * c;
        // Decay w = exp(DECAY_SCALE * sigmoid(w2 tanh(w1 x_w) + w0)).
        for (int t = 0; t < n; t++) {
            for (int ch = 0, i = t * c; ch < c; ch++, i++) {
                double ws = y.ws[i];
                dw[i] = dw[i] * y.w[i] * DECAY_SCALE * ws * (1 - ws);
                grad[q.w0 + ch] += dw[i];
            }
        }
        lowRankBackward(p, grad, q.w2, q.w1, rankW, dw, y.wh, y.m[W], dm[W], n, TANH_MID);

        // In-context learning rate a = sigmoid(a2 a1 x_a + a0).
        for (int t = 0; t < n; t++) {
            for (int ch = 0, i = t * c; ch < c; ch++, i++) {
                da[i] = da[i] * y.a[i] * (1 - y.a[i]);
                grad[q.a0 + ch] += da[i];
            }
        }
        lowRankBackward(p, grad, q.a2, q.a1, rankA, da, y.ah, y.m[A], dm[A], n, LINEAR_MID);

        // Value, with the residual toward layer 0's value in later layers.
        Arrays.fill(dm[V], 0, tc, 0);
        if (l == 0) {
            for (int i = 0; i < tc; i++) {
                dvRaw[i] = dv[i] + dVFirst[i];
            }
        } else {
            double[] vFirst = cache[0].v;
            for (int t = 0; t < n; t++) {
                for (int ch = 0, i = t * c; ch < c; ch++, i++) {
                    double vg = y.vg[i];
                    dvRaw[i] = dv[i] * (1 - vg);
                    dVFirst[i] += dv[i] * vg;
                    dv[i] = dv[i] * (vFirst[i] - y.vRaw[i]) * vg * (1 - vg);
                    grad[q.v0 + ch] += dv[i];
                }
            }
            lowRankBackward(p, grad, q.v2, q.v1, rankV, dv, y.vh, y.m[V], dm[V], n, LINEAR_MID);
        }
        products.mulBackward(grad, q.value, c, c, y.m[V], dvRaw, dm[V], n);
        Arrays.fill(dm[R], 0, tc, 0);
        products.mulBackward(grad, q.receptance, c, c, y.m[R], dr, dm[R], n);
    }

    /** The six mixes {@code m_s = x1 + sx * mu_s} with {@code sx = prev - x1}, and LayerNorm 1, into dx. */
    private void tokenShiftBackward(Cache y, Rwkv7Params.Layer q, double[] p, double[] grad, int n) {
        int tc = n * c;
        for (int m = 0; m < 6; m++) {
            int mu = q.mix + m * c;
            double[] d = dm[m];
            for (int t = 0; t < n; t++) {
                for (int i = 0; i < c; i++) {
                    grad[mu + i] += d[t * c + i] * y.sx[t * c + i];
                }
            }
        }
        // Each element's two sums over the mixes in one pass that writes it once, rather than six passes updating
        // both arrays (the terms added in the same order, from zero). The six mixes are named one by one so that
        // the loop over the channels is the innermost, which the JIT vectorizes.
        double[] d0 = dm[0], d1 = dm[1], d2 = dm[2], d3 = dm[3], d4 = dm[4], d5 = dm[5];
        int mu0 = q.mix, mu1 = mu0 + c, mu2 = mu1 + c, mu3 = mu2 + c, mu4 = mu3 + c, mu5 = mu4 + c;
        for (int t = 0; t < n; t++) {
            for (int i = 0, o = t * c; i < c; i++, o++) {
                double sx = 0, direct = 0;
                sx += d0[o] * p[mu0 + i];
                direct += d0[o];
                sx += d1[o] * p[mu1 + i];
                direct += d1[o];
                sx += d2[o] * p[mu2 + i];
                direct += d2[o];
                sx += d3[o] * p[mu3 + i];
                direct += d3[o];
                sx += d4[o] * p[mu4 + i];
                direct += d4[o];
                sx += d5[o] * p[mu5 + i];
                direct += d5[o];
                dsx[o] = sx;
                dTmp[o] = direct;
            }
        }
        shiftDeltaBackward(dTmp, dsx, dX, n);
        Dense.scaleShiftBackward(y.ln1Hat, p, grad, q.ln1W, q.ln1B, dX, dHat, c, n);
        Dense.normalizeBackward(y.ln1Hat, y.ln1Rstd, dHat, c, dx, n);
    }

    /**
     * Gradient of the token shift {@code sx[t] = prev[t] - x[t]}, prev[t] = x[t-1}: {@code dxOut = dDirect -
     * dsx + dsx shifted back by one token}. The first token's prev is the carried state, which gets none.
     */
    private void shiftDeltaBackward(double[] dDirect, double[] dsx, double[] dxOut, int n) {
        int tc = n * c;
        // Two loops rather than a test per element, so that the JIT vectorizes them; the last token still adds
        // its zero (which turns a -0.0 into 0.0, as before).
        for (int i = 0; i < tc - c; i++) {
            dxOut[i] = dDirect[i] - dsx[i] + dsx[i + c];
        }
        for (int i = Math.max(0, tc - c); i < tc; i++) {
            dxOut[i] = dDirect[i] - dsx[i] + 0.0;
        }
    }

    private static final int LINEAR_MID = 0, TANH_MID = 1, SIGMOID_MID = 2;

    /**
     * Gradient of {@code out = down · f(up · x)} (a LoRA of the given rank) from {@code dOut}: {@code mid}
     * holds f(up · x) from the forward pass; writes dx into {@code dIn} (overwritten).
     */
    private void lowRankBackward(double[] p, double[] grad, int down, int up, int rank, double[] dOut,
                                 double[] mid, double[] in, double[] dIn, int n, int activation) {
        Arrays.fill(dLow, 0, n * rank, 0);
        products.mulBackward(grad, down, c, rank, mid, dOut, dLow, n);
        for (int i = 0; i < n * rank; i++) {
            double h = mid[i];
            if (activation == TANH_MID) {
                dLow[i] *= 1 - h * h;
            } else if (activation == SIGMOID_MID) {
                dLow[i] *= h * (1 - h);
            }
        }
        Arrays.fill(dIn, 0, n * c, 0);
        products.mulBackward(grad, up, rank, c, in, dLow, dIn, n);
    }

    private static double sigmoid(double x) {
        return 1 / (1 + Math.exp(-x));
    }
}
