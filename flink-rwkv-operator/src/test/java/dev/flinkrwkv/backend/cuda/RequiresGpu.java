package dev.flinkrwkv.backend.cuda;

import dev.flinkrwkv.backend.Backends;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Skips a test class where there is no CUDA driver or device (CI), and says so once on the console with
 * the reason (JUnit reports the class as skipped; surefire does not print why).
 */
public final class RequiresGpu implements ExecutionCondition {
    private static volatile boolean told;

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        if (Backends.cudaAvailable()) {
            return ConditionEvaluationResult.enabled("GPU: " + Backends.cudaStatus());
        }
        String why = "no CUDA driver/device, GPU tests skipped: " + Backends.cudaStatus();
        if (!told && context.getTestMethod().isEmpty()) {
            told = true;
            System.out.println(context.getDisplayName() + ": " + why);
        }
        return ConditionEvaluationResult.disabled(why);
    }
}
