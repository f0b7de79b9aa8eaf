package dev.loku.runtime.job;

import dev.loku.events.ForgetSetReady;
import dev.loku.events.ImportanceReady;
import dev.loku.events.RetryDirection;
import dev.loku.events.UnlearnCompleted;
import dev.loku.runtime.PipelineIds;
import dev.loku.runtime.artifact.ForgetSetLedger;
import dev.loku.runtime.audit.AuditReason;
import dev.loku.runtime.catalogue.CatalogueModel;
import dev.loku.runtime.catalogue.UnlearningProfile;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * One attempt at one forget set, as every stage after ingest sees it: the ids it audits and the deterministic ids
 * it derives ({@link PipelineIds}). Built from whichever event a stage consumes; the members' tenant and content
 * hash are known where the set's {@link ForgetSetLedger ledger} record is (they enrich audit events, nothing more).
 *
 * @param forgetSetId      the set
 * @param modelId          its model
 * @param baseModelVersion the version this attempt starts from
 * @param attempt          1-based attempt number
 * @param requestIds       the member requests, in the event's order
 * @param members          member details by request id; may lack some or all
 */
public record ForgetSetJob(UUID forgetSetId, String modelId, String baseModelVersion, int attempt, List<UUID> requestIds,
                           Map<UUID, ForgetSetLedger.Member> members) {

    public ForgetSetJob {
        Objects.requireNonNull(forgetSetId, "forgetSetId");
        Objects.requireNonNull(modelId, "modelId");
        Objects.requireNonNull(baseModelVersion, "baseModelVersion");
        requestIds = List.copyOf(requestIds);
        members = Map.copyOf(members);
    }

    public static ForgetSetJob of(ForgetSetReady e) {
        return new ForgetSetJob(e.getForgetSetId(), e.getModelId(), e.getBaseModelVersion(), e.getAttempt(),
                e.getMembers().stream().map(m -> m.getRequestId()).toList(),
                ForgetSetLedger.SetRecord.of(e).members().stream()
                        .collect(Collectors.toMap(ForgetSetLedger.Member::requestId, Function.identity())));
    }

    public static ForgetSetJob of(ImportanceReady e) {
        return new ForgetSetJob(e.getForgetSetId(), e.getModelId(), e.getBaseModelVersion(), e.getAttempt(),
                e.getRequestIds(), Map.of());
    }

    public static ForgetSetJob of(UnlearnCompleted e) {
        return new ForgetSetJob(e.getForgetSetId(), e.getModelId(), e.getBaseModelVersion(), e.getAttempt(),
                e.getRequestIds(), Map.of());
    }

    /** The same job with the members of the set's ledger record. */
    public ForgetSetJob withMembers(ForgetSetLedger.SetRecord set) {
        return new ForgetSetJob(forgetSetId, modelId, baseModelVersion, attempt, requestIds, set.members().stream()
                .collect(Collectors.toMap(ForgetSetLedger.Member::requestId, Function.identity())));
    }

    /** {@link PipelineIds#jobId}: the same for every delivery of this attempt. */
    public UUID jobId() {
        return PipelineIds.jobId(forgetSetId, attempt, baseModelVersion);
    }

    /** {@link PipelineIds#candidateVersion}: the version this attempt produces. */
    public String candidateVersion() {
        return PipelineIds.candidateVersion(baseModelVersion, jobId());
    }

    /**
     * The model's profile at this attempt ({@link UnlearningProfile#forAttempt}).
     *
     * @throws JobFailure when the attempt is outside 1..the profile's maxAttempts
     */
    public UnlearningProfile profileIn(CatalogueModel model) throws JobFailure {
        return profileIn(model, RetryDirection.STRONGER);
    }

    /**
     * The profile of this attempt moved in {@code direction} (GENTLER after the retain or general-ability guard
     * failed, STRONGER after a failure to forget), refused when the attempt is outside the profile's bounds.
     */
    public UnlearningProfile profileIn(CatalogueModel model, RetryDirection direction) throws JobFailure {
        UnlearningProfile p = model.profile();
        if (attempt < 1 || attempt > p.maxAttempts()) {
            throw JobFailure.because(AuditReason.format("attempt %d is outside 1..%d", attempt, p.maxAttempts()),
                    null);
        }
        return p.forAttempt(attempt, direction);
    }

    /** The tenant of a member, when known. */
    public String tenantOf(UUID requestId) {
        ForgetSetLedger.Member m = members.get(requestId);
        return m == null ? null : m.tenantId();
    }

    /** The content hash of a member, when known. */
    public String contentSha256Of(UUID requestId) {
        ForgetSetLedger.Member m = members.get(requestId);
        return m == null ? null : m.contentSha256();
    }
}
