package dev.loku.core.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.Test;

class TensorScopeTest {

    private static NDArray helper(NDArray x) {
        try (TensorScope scope = new TensorScope()) {
            return scope.keep(x.mul(2).add(1));
        }
    }

    @Test
    void keptResultsOfNestedHelpersAreClosedByTheEnclosingScope() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.create(new float[] {1, 2, 3});
            int before = m.getManagedArrays().size();
            NDArray inner;
            NDArray outer;
            try (TensorScope scope = new TensorScope()) {
                inner = helper(x);
                outer = scope.keep(helper(inner).sum()); // sum((2x+1)*2+1) = sum(4x+3) = 33
            }
            assertEquals(33f, outer.getFloat(), 0f);
            assertTrue(inner.isReleased(), "the helper's result was not kept by the caller, so it is closed");
            assertFalse(outer.isReleased());
            assertFalse(x.isReleased(), "inputs are never touched");
            assertEquals(before + 1, m.getManagedArrays().size());
        }
    }
}
