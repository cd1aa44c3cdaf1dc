package dev.flinkrwkv.jobs.runtime;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;

import java.time.Duration;
import java.util.Locale;

/**
 * What a job does after a failure (a task throws, a TaskManager is lost): how it is restarted from its last
 * checkpoint. {@link #CLUSTER} sets nothing, so the cluster's {@code restart-strategy.*} configuration
 * applies; this is what a job submitted with {@code flink run} uses unless {@code --restart-strategy} is
 * given. {@link #EMBEDDED_DEFAULT} is the embedded cluster's: exponential backoff without an attempt
 * limit, so that no run of failures (a broker that is away for a while) can use the restarts up and leave
 * the job failed.
 *
 * @param kind         which strategy; {@code CLUSTER}: none set here
 * @param attempts     fixed-delay: restarts before the job fails
 * @param delay        fixed-delay: the pause before each restart; exponential-delay: the first backoff
 * @param maxBackoff   exponential-delay: the longest backoff
 */
public record RestartStrategy(Kind kind, int attempts, Duration delay, Duration maxBackoff) {
    public enum Kind { CLUSTER, NONE, FIXED_DELAY, EXPONENTIAL_DELAY }

    public static final String USAGE = "cluster|none|fixed-delay:ATTEMPTS:DELAY_MS|exponential-delay[:INITIAL_MS:MAX_MS]";

    public static final RestartStrategy CLUSTER = new RestartStrategy(Kind.CLUSTER, 0, Duration.ZERO, Duration.ZERO);
    public static final RestartStrategy NONE = new RestartStrategy(Kind.NONE, 0, Duration.ZERO, Duration.ZERO);
    public static final RestartStrategy EMBEDDED_DEFAULT = exponentialDelay(Duration.ofSeconds(1), Duration.ofSeconds(30));

    public static RestartStrategy fixedDelay(int attempts, Duration delay) {
        if (attempts < 0 || delay.isNegative()) {
            throw new IllegalArgumentException("fixed-delay needs attempts >= 0 and a delay >= 0, got " + attempts + " and " + delay.toMillis() + " ms");
        }
        return new RestartStrategy(Kind.FIXED_DELAY, attempts, delay, Duration.ZERO);
    }

    public static RestartStrategy exponentialDelay(Duration initial, Duration max) {
        if (initial.isNegative() || initial.isZero() || max.compareTo(initial) < 0) {
            throw new IllegalArgumentException("exponential-delay needs 0 < initial backoff <= max backoff, got "
                    + initial.toMillis() + " ms and " + max.toMillis() + " ms");
        }
        return new RestartStrategy(Kind.EXPONENTIAL_DELAY, Integer.MAX_VALUE, initial, max);
    }

    /**
     * The value of {@code --restart-strategy}: {@code cluster}, {@code none}, {@code fixed-delay:ATTEMPTS:DELAY_MS},
     * {@code exponential-delay} (1 s doubling to 30 s, no attempt limit) or {@code exponential-delay:INITIAL_MS:MAX_MS}.
     *
     * @throws IllegalArgumentException with a one-line message naming the accepted forms
     */
    public static RestartStrategy parse(String s) {
        String[] f = s.trim().toLowerCase(Locale.ROOT).split(":", -1);
        try {
            switch (f[0]) {
                case "cluster":
                    if (f.length == 1) {
                        return CLUSTER;
                    }
                    break;
                case "none":
                    if (f.length == 1) {
                        return NONE;
                    }
                    break;
                case "fixed-delay":
                    if (f.length == 3) {
                        return fixedDelay(Integer.parseInt(f[1]), Duration.ofMillis(Long.parseLong(f[2])));
                    }
                    break;
                case "exponential-delay":
                    if (f.length == 1) {
                        return EMBEDDED_DEFAULT;
                    }
                    if (f.length == 3) {
                        return exponentialDelay(Duration.ofMillis(Long.parseLong(f[1])), Duration.ofMillis(Long.parseLong(f[2])));
                    }
                    break;
                default:
                    break;
            }
        } catch (NumberFormatException e) {
            // falls through to the message below
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--restart-strategy " + s + ": " + e.getMessage(), e);
        }
        throw new IllegalArgumentException("--restart-strategy " + s + " is not one of " + USAGE);
    }

    /** Sets this strategy in a job's configuration; {@link #CLUSTER} leaves it to the cluster's. */
    public void applyTo(Configuration conf) {
        switch (kind) {
            case CLUSTER -> { }
            case NONE -> conf.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
            case FIXED_DELAY -> {
                conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
                conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, attempts);
                conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, delay);
            }
            case EXPONENTIAL_DELAY -> {
                conf.set(RestartStrategyOptions.RESTART_STRATEGY, "exponential-delay");
                conf.set(RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_INITIAL_BACKOFF, delay);
                conf.set(RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_MAX_BACKOFF, maxBackoff);
                conf.set(RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_BACKOFF_MULTIPLIER, 2.0);
                conf.set(RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_ATTEMPTS, attempts);
            }
        }
    }

    /** For the start line: what happens after a failure. */
    public String describe() {
        return switch (kind) {
            case CLUSTER -> "restarts as the cluster configures";
            case NONE -> "no restarts";
            case FIXED_DELAY -> "up to " + attempts + " restarts " + delay.toMillis() + " ms apart";
            case EXPONENTIAL_DELAY -> "restarts without limit, backoff " + delay.toMillis() + " ms doubling to " + maxBackoff.toMillis() + " ms";
        };
    }
}
