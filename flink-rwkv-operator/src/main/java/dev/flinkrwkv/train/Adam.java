package dev.flinkrwkv.train;

/**
 * Adam over a flat parameter vector (Kingma and Ba, with bias correction), preceded by clipping of the
 * gradient's global L2 norm, with optional decoupled weight decay (AdamW, Loshchilov and Hutter): each step
 * first shrinks the chosen parameters by {@code lr * weightDecay} of their value, whatever the gradient. The
 * moments are plain arrays so that a checkpoint can save and restore them.
 */
public final class Adam {
    private final double beta1, beta2, eps;
    final double[] m, v;
    long steps;
    /** The current step's gradient scale, step size and sqrt(1 - beta2^t), set by {@link #begin}. */
    private double scale, stepSize, sqrtC2;
    /** Decoupled weight decay: the rate, and which parameters it applies to (null: none). */
    private double weightDecay;
    private boolean[] decayed;
    /** The current step's shrink factor of a decayed parameter, {@code 1 - lr * weightDecay}. */
    private double shrink = 1;

    public Adam(int size, double beta1, double beta2, double eps) {
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.m = new double[size];
        this.v = new double[size];
    }

    /** The settings RWKV uses: beta1 0.9, beta2 0.99, eps 1e-8. */
    public static Adam forRwkv(int size) {
        return new Adam(size, 0.9, 0.99, 1e-8);
    }

    public long steps() {
        return steps;
    }

    /**
     * Shrinks the parameters where {@code decayed} is true by {@code lr * rate} of their value at every step
     * (0: no decay). Decay is a setting of the run, not state: a checkpoint does not keep it.
     */
    public void setWeightDecay(double rate, boolean[] decayed) {
        if (!(rate >= 0) || decayed.length != m.length) {
            throw new IllegalArgumentException("weight decay must be >= 0 over one flag per parameter, got " + rate
                    + " over " + decayed.length + " of " + m.length);
        }
        this.weightDecay = rate;
        this.decayed = rate > 0 ? decayed.clone() : null;
    }

    /** The gradient's global L2 norm. */
    public static double norm(double[] grad) {
        double s = 0;
        for (double g : grad) {
            s += g * g;
        }
        return Math.sqrt(s);
    }

    /**
     * One update of {@code params} by {@code grad}, after scaling the gradient down to global norm
     * {@code clip} if it is larger (clip &lt;= 0: no clipping). Returns the norm before clipping.
     */
    public double step(double[] params, double[] grad, double lr, double clip) {
        double norm = begin(grad, lr, clip);
        apply(params, grad, 0, params.length);
        return norm;
    }

    /**
     * The first half of {@link #step}: counts the step and fixes its clipping scale and step size from the
     * whole gradient; returns the norm before clipping. {@link #apply} then updates the elements, in
     * disjoint ranges on as many threads as wanted (each element's update depends only on its own values).
     */
    double begin(double[] grad, double lr, double clip) {
        double norm = norm(grad);
        scale = clip > 0 && norm > clip ? clip / norm : 1;
        steps++;
        double c1 = 1 - Math.pow(beta1, steps), c2 = 1 - Math.pow(beta2, steps);
        stepSize = lr / c1;
        sqrtC2 = Math.sqrt(c2);
        shrink = 1 - lr * weightDecay;
        return norm;
    }

    /** Updates elements [from, to) of {@code params} for the step {@link #begin} started. */
    void apply(double[] params, double[] grad, int from, int to) {
        for (int i = from; i < to; i++) {
            if (decayed != null && decayed[i]) {
                params[i] *= shrink;
            }
            double g = grad[i] * scale;
            m[i] = beta1 * m[i] + (1 - beta1) * g;
            v[i] = beta2 * v[i] + (1 - beta2) * g * g;
            params[i] -= stepSize * m[i] / (Math.sqrt(v[i]) / sqrtC2 + eps);
        }
    }
}
