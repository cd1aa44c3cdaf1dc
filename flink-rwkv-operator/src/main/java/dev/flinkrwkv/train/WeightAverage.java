package dev.flinkrwkv.train;

/**
 * An exponential moving average of a model's parameters, updated after every optimizer step: {@code average =
 * decay * average + (1 - decay) * values}, starting from the first values it sees. On little text a fit's last
 * weights are one point of a noisy walk whose detail depends on the seed; their average over the last
 * {@code 1 / (1 - decay)} steps or so sits nearer the middle of that walk, and is steadier from one seed to the
 * next (Polyak averaging). The optimizer keeps stepping the live weights; the average is only read: {@link #swap}
 * puts it in their place to evaluate or write it, and a second call puts the live weights back.
 */
public final class WeightAverage {
    private final double decay;
    private final double[] average;
    private long updates;

    /** @param decay in [0, 1): the weight of the average so far at each update */
    public WeightAverage(double decay, int size) {
        if (!(decay >= 0 && decay < 1)) {
            throw new IllegalArgumentException("the decay of a weight average must be in [0, 1), got " + decay);
        }
        this.decay = decay;
        this.average = new double[size];
    }

    public double decay() {
        return decay;
    }

    /** How many steps it has averaged. */
    public long updates() {
        return updates;
    }

    /** Takes the values after one more optimizer step into the average (the first call copies them). */
    public void update(double[] values) {
        checkSize(values);
        if (updates == 0) {
            System.arraycopy(values, 0, average, 0, values.length);
        } else {
            double keep = decay;
            double take = 1 - decay;
            for (int i = 0; i < values.length; i++) {
                average[i] = keep * average[i] + take * values[i];
            }
        }
        updates++;
    }

    /** Exchanges the average and {@code values} in place: after one call {@code values} holds the average, after two what it held. */
    public void swap(double[] values) {
        checkSize(values);
        if (updates == 0) {
            throw new IllegalStateException("nothing averaged yet");
        }
        for (int i = 0; i < values.length; i++) {
            double v = values[i];
            values[i] = average[i];
            average[i] = v;
        }
    }

    private void checkSize(double[] values) {
        if (values.length != average.length) {
            throw new IllegalArgumentException(values.length + " values for an average of " + average.length);
        }
    }
}
