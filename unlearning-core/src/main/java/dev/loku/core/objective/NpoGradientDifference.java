package dev.loku.core.objective;

import ai.djl.ndarray.NDArray;
import dev.loku.core.model.TokenBatch;
import dev.loku.core.tensor.TensorScope;
import dev.loku.core.tensor.Tensors;

/**
 * NPO with a retain NLL term (docs/method.md §4 {@code npo_grad_diff}):
 * {@code npoCoeff · (−2/β) · mean_x log σ(β · (NLL_sum_θ(x) − NLL_sum_ref(x))) + retainCoeff · NLL_mean(retain)},
 * with NLL_sum the per-sequence sum over kept label tokens and ref the frozen starting model. Defaults β = 0.1 and
 * both coefficients 1.
 */
public final class NpoGradientDifference implements UnlearningObjective {

    public static final double DEFAULT_BETA = 0.1;

    private static final ObjectiveNeeds NEEDS = new ObjectiveNeeds(true, true, false);

    private final double beta;
    private final double npoCoeff;
    private final double retainCoeff;

    public NpoGradientDifference() {
        this(DEFAULT_BETA, 1.0, 1.0);
    }

    public NpoGradientDifference(double beta, double npoCoeff, double retainCoeff) {
        if (!(beta > 0)) {
            throw new IllegalArgumentException("NPO's beta must be positive, got " + beta);
        }
        this.beta = beta;
        this.npoCoeff = npoCoeff;
        this.retainCoeff = retainCoeff;
    }

    @Override
    public UnlearningMethod method() {
        return UnlearningMethod.NPO;
    }

    @Override
    public ObjectiveNeeds needs() {
        return NEEDS;
    }

    public double beta() {
        return beta;
    }

    @Override
    public ObjectiveLoss compute(ObjectiveInputs inputs) {
        ScoredBatch retain = inputs.requireRetain("NPO");
        NDArray reference = inputs.requireForgetReference("NPO");
        ScoredBatch forget = inputs.forget();
        try (TensorScope scope = new TensorScope()) {
            NDArray current = CausalLmLoss.sequenceNllSums(forget);
            NDArray ref = CausalLmLoss.sequenceNllSums(new ScoredBatch(reference.stopGradient(), forget.labels()));
            NDArray x = Tensors.times(current.sub(ref), beta);
            NDArray npo = Tensors.times(logSigmoid(x).mean(), -2.0 / beta);
            NDArray forgetTerm = Tensors.times(npo, npoCoeff);
            NDArray retainTerm = Tensors.times(CausalLmLoss.meanNll(retain), retainCoeff);
            NDArray total = forgetTerm.add(retainTerm);
            scope.keep(total);
            scope.keep(forgetTerm);
            scope.keep(retainTerm);
            return new ObjectiveLoss(total, forgetTerm, retainTerm);
        }
    }

    /**
     * NPO's term is a mean over sequences (each sequence's NLL sum goes through the log-sigmoid as a whole, so a
     * sequence is its unit, as in the reference), the retain NLL a token mean.
     */
    @Override
    public TermCounts counts(TokenBatch forget, TokenBatch retain) {
        return new TermCounts(forget.size(), retain == null ? 0 : retain.targetCount());
    }

    /** log σ(x) = min(x, 0) − log(1 + e^{−|x|}), stable for large |x|. */
    static NDArray logSigmoid(NDArray x) {
        try (TensorScope scope = new TensorScope()) {
            NDArray result = x.minimum(Tensors.scalar(x, 0)).sub(x.abs().neg().exp().add(Tensors.scalar(x, 1)).log());
            return scope.keep(result);
        }
    }
}
