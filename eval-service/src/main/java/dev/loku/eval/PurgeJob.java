package dev.loku.eval;

import dev.loku.events.AuditStatus;
import dev.loku.events.PipelineStage;
import dev.loku.events.Verdict;
import dev.loku.events.VerificationResult;
import dev.loku.runtime.PipelineIds;
import dev.loku.runtime.artifact.ForgetSetLedger;
import dev.loku.runtime.artifact.ForgetSetLedger.Holding;
import dev.loku.runtime.audit.AuditReason;
import dev.loku.runtime.audit.DeadLetterPublisher;
import dev.loku.runtime.job.ForgetSetJob;
import dev.loku.runtime.job.JobFailure;
import dev.loku.runtime.job.PipelineStores;
import dev.loku.runtime.job.StageAudit;
import dev.loku.runtime.kafka.TopicRecord;
import java.io.IOException;
import java.time.Clock;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The purge after a final verdict (docs/pipeline.md, "Artifacts"), run on {@code loku.verifications}: whichever
 * stage emitted the verdict (eval's own PASS or FAIL, or the final FAIL a failing Fisher or worker job publishes),
 * the set's data are deleted only once the verdict is committed, and PURGED is committed with the purge's offset.
 * <ul>
 *   <li>Retrying verdicts are skipped: the next attempt still needs the data.</li>
 *   <li>Deleted: the forget-set artifact, the members' content artifacts, the importance (each unless another
 *       open set holds the same bytes, or, for the forget set and contents, a request outside the set that ingest
 *       accepted and has not cut yet: {@link ForgetSetLedger#heldElsewhere}), and every candidate of the set except the promoted one (withdrawn from the model versions: index entry, tree, materialised
 *       copies). Candidates are found in the {@link ForgetSetLedger} and, in case a run published one but died
 *       before holding it, by name: each attempt's candidate version follows from the verdict's ids.</li>
 *   <li>The members' data keys are destroyed (crypto-shredding): every remaining copy of their sealed content, in
 *       the request topic or anywhere else, stops opening.</li>
 *   <li>The set is closed in the ledger (a tombstone without personal data), so stale repeats of its events are
 *       ignored by every stage, then PURGED per request.</li>
 * </ul>
 * Every step is idempotent: a purge re-run after a crash deletes what is left and emits the same PURGED events
 * (same ids).
 */
public final class PurgeJob {

    private static final Logger LOG = LoggerFactory.getLogger(PurgeJob.class);

    private final PipelineStores stores;
    private final StageAudit audit;
    private final DeadLetterPublisher deadLetters;
    private final Clock clock;

    PurgeJob(PipelineStores stores, StageAudit audit, DeadLetterPublisher deadLetters, Clock clock) {
        this.stores = stores;
        this.audit = audit;
        this.deadLetters = deadLetters;
        this.clock = clock;
    }

    /** The records to publish for a verdict: PURGED per request after a final one, nothing otherwise. */
    public List<TopicRecord<?, ?>> run(VerificationResult v) throws IOException {
        if (v.getRetrying()) {
            return List.of();
        }
        ForgetSetLedger ledger = stores.ledger();
        ForgetSetJob job = new ForgetSetJob(v.getForgetSetId(), v.getModelId(), v.getBaseModelVersion(), v.getAttempt(),
                v.getRequestIds(), java.util.Map.of());
        Optional<ForgetSetLedger.SetRecord> set = ledger.set(job.forgetSetId());
        if (set.isPresent()) {
            job = job.withMembers(set.get());
        } else if (!ledger.isClosed(job.forgetSetId())) {
            // Only a failure to write the ledger at the Fisher stage leads here: the forget set's artifacts are not
            // known, so they cannot be deleted. PURGED still ends the trail; an operator must look.
            LOG.warn("event=purge_without_ledger forget_set_id={} model={} action=\"the set's forget-set and content "
                    + "artifacts may remain in the store; the forget-set ref is in its ForgetSetReady on loku.forget-sets\"",
                    job.forgetSetId(), job.modelId());
        }
        String promoted = v.getVerdict() == Verdict.PASS ? v.getCandidateVersion() : null;
        int blobs = 0;
        Set<String> candidates = new LinkedHashSet<>();
        for (Holding h : ledger.holdings(job.forgetSetId())) {
            switch (h.role()) {
                case FORGET_SET, REQUEST_CONTENT -> blobs += deleteUnlessHeld(job, h.ref()) ? 1 : 0;
                case IMPORTANCE -> {
                    // Equal bytes are one blob: keep it while another open set holds it too.
                    if (!ledger.heldByAnotherSet(job.forgetSetId(), h.ref().getSha256())) {
                        blobs += stores.artifacts().delete(h.ref()) ? 1 : 0;
                    }
                }
                case CANDIDATE_MODEL -> h.attribute("version").ifPresent(candidates::add);
                case CANDIDATE_ADAPTER -> {
                    if (!h.attribute("version").orElse("").equals(promoted)) {
                        stores.artifacts().deleteTree(h.ref());
                    }
                }
            }
        }
        if (set.isPresent()) {
            blobs += deleteUnlessHeld(job, set.get().forgetSet()) ? 1 : 0;
        }
        for (Holding h : ledger.holdings(job.forgetSetId(), ForgetSetLedger.Role.REQUEST_CONTENT)) {
            for (java.util.UUID member : job.requestIds()) {
                ledger.releaseWaiting(member, h.ref().getSha256());
            }
        }
        for (int attempt = 1; attempt <= v.getAttempt(); attempt++) {
            if (v.getBaseModelVersion().matches("v\\d+(-[0-9a-f]{8})?")) {
                candidates.add(PipelineIds.candidateVersion(v.getBaseModelVersion(),
                        PipelineIds.jobId(job.forgetSetId(), attempt, v.getBaseModelVersion())));
            }
        }
        int withdrawn = 0;
        for (String version : candidates) {
            if (!version.equals(promoted) && safeVersion(version)) {
                withdrawn += stores.versions().withdraw(job.modelId(), version) ? 1 : 0;
            }
        }
        // Crypto-shredding: with the members' data keys gone, no copy of their content opens again (the request
        // topic until its retention, an orphaned blob, a backup of the store).
        int keys = 0;
        for (java.util.UUID requestId : job.requestIds()) {
            keys += stores.keys().destroy(requestId) ? 1 : 0;
        }
        ledger.close(job.forgetSetId(), new ForgetSetLedger.Closure(v.getVerdict().name(), promoted, clock.instant()));
        LOG.info("event=forget_set_purged forget_set_id={} model={} verdict={} promoted_version={} blobs_deleted={} "
                        + "candidates_withdrawn={} keys_destroyed={}", job.forgetSetId(), job.modelId(), v.getVerdict(),
                promoted, blobs, withdrawn, keys);
        return audit.forEachRequest(job, PipelineStage.PURGE, AuditStatus.PURGED, promoted, null);
    }

    /**
     * Deletes a forget-set or content blob unless something else holds equal bytes: another open set, or a request
     * outside this set that ingest accepted and has not cut yet (it may wait for another model). Ingest records such a
     * hold before it stores the blob, and storing skips a blob that exists; so a hold that appears between the check
     * and the delete is seen by the second check, and the bytes are put back.
     */
    private boolean deleteUnlessHeld(ForgetSetJob job, dev.loku.events.ArtifactRef ref) throws IOException {
        ForgetSetLedger ledger = stores.ledger();
        if (ledger.heldElsewhere(job.forgetSetId(), job.requestIds(), ref.getSha256())) {
            return false;
        }
        byte[] bytes = null;
        try {
            bytes = stores.artifacts().exists(ref) ? stores.artifacts().read(ref) : null;
        } catch (dev.loku.runtime.artifact.CorruptArtifactException e) {
            // damaged bytes are nothing to keep for anyone
        }
        boolean deleted = stores.artifacts().delete(ref);
        if (deleted && bytes != null && ledger.heldElsewhere(job.forgetSetId(), job.requestIds(), ref.getSha256())) {
            stores.artifacts().put(bytes);
            LOG.info("event=purge_blob_restored forget_set_id={} artifact={} cause=held_meanwhile", job.forgetSetId(),
                    ref.getSha256());
            return false;
        }
        return deleted;
    }

    /**
     * A purge that failed (the store unwritable, say) is not retried by the loop: it is logged as an error and the
     * verdict dead-lettered, so an operator can re-publish it to {@code loku.verifications} once the store is
     * fixed; the purge is idempotent.
     */
    List<TopicRecord<?, ?>> onFailure(ConsumerRecord<String, VerificationResult> input,
                                      ConsumerRecord<byte[], byte[]> raw, Exception error) {
        VerificationResult v = input.value();
        AuditReason reason = JobFailure.reasonOf(error);
        LOG.error("event=purge_failed forget_set_id={} model={} reason=\"{}\" action=\"the forget set's artifacts may "
                + "remain; re-publish the dead-lettered verdict to retry the purge\"", v.getForgetSetId(),
                v.getModelId(), reason.text());
        return List.of(deadLetters.unprocessable(raw, reason, error));
    }

    private static boolean safeVersion(String version) {
        return version.matches("[A-Za-z0-9._-]{1,128}") && !version.startsWith(".");
    }
}
