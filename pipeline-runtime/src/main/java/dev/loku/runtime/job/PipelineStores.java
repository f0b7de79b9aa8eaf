package dev.loku.runtime.job;

import dev.loku.events.ArtifactRef;
import dev.loku.runtime.artifact.ArtifactNotFoundException;
import dev.loku.runtime.artifact.ArtifactStore;
import dev.loku.runtime.artifact.CorruptArtifactException;
import dev.loku.runtime.artifact.DirectoryArtifactStore;
import dev.loku.runtime.artifact.ForgetSetLedger;
import dev.loku.runtime.artifact.ModelVersionStore;
import dev.loku.runtime.artifact.RetryingArtifactStore;
import dev.loku.runtime.audit.AuditReason;
import dev.loku.runtime.catalogue.CatalogueModel;
import dev.loku.runtime.catalogue.ModelCatalogue;
import dev.loku.runtime.config.CommonConfig;
import dev.loku.runtime.crypto.ContentSeal;
import dev.loku.runtime.crypto.DataKeyStore;
import dev.loku.runtime.crypto.DataKeyStores;
import dev.loku.runtime.crypto.SealedLines;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The stores a job service reads and writes, opened the same way by the Fisher, worker and eval services from the
 * common configuration: the model catalogue (with its files checked, since these services read them), the artifact
 * store (its I/O errors retried as {@code artifacts.retry.*} say), the model versions and the forget-set ledger, all
 * under {@code artifacts.root}, and the data key store of crypto-shredding ({@code keys.*}): forget sets are stored
 * sealed ({@link SealedLines}) and opened only for the engine, into the job's scratch folder.
 */
public record PipelineStores(ModelCatalogue catalogue, ArtifactStore artifacts, ModelVersionStore versions,
                             ForgetSetLedger ledger, DataKeyStore keys) {

    /** The cipher over {@link #keys}. */
    public ContentSeal seal() {
        return new ContentSeal(keys);
    }

    /**
     * Opens them; a bad catalogue, a missing checkpoint or data file, or an unusable store fails here, at start-up.
     */
    public static PipelineStores open(CommonConfig common) {
        ModelCatalogue catalogue = ModelCatalogue.load(common.modelsCatalogue());
        catalogue.checkFilesExist();
        DirectoryArtifactStore directory;
        try {
            directory = new DirectoryArtifactStore(common.artifactsRoot());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the artifact store at " + common.artifactsRoot(), e);
        }
        ArtifactStore store = RetryingArtifactStore.over(directory, common.artifactRetry());
        return new PipelineStores(catalogue, store, ModelVersionStore.inDirectory(directory, store, catalogue),
                ForgetSetLedger.inDirectory(directory), DataKeyStores.open(common.keyStore()));
    }

    /**
     * The catalogue model of {@code job}.
     *
     * @throws JobFailure "model is not in this service's model catalogue" (the audit event names the service)
     */
    public CatalogueModel model(ForgetSetJob job) throws JobFailure {
        return catalogue.find(job.modelId()).orElseThrow(() -> JobFailure.because(
                AuditReason.of("model is not in this service's model catalogue"), null));
    }

    /**
     * The local folder or file of the version {@code job} starts from.
     *
     * @throws JobFailure when that version is not published, or its artifacts are missing or corrupt
     */
    public Path base(ForgetSetJob job) throws JobFailure, IOException {
        try {
            return versions.resolve(job.modelId(), job.baseModelVersion());
        } catch (IllegalArgumentException e) {
            throw JobFailure.because(AuditReason.format("base model version %s is not published",
                    JobFailure.idOf(job.baseModelVersion())), e);
        } catch (CorruptArtifactException | ArtifactNotFoundException e) {
            throw JobFailure.because(AuditReason.format("base model version %s is missing or corrupt in the "
                    + "artifact store", JobFailure.idOf(job.baseModelVersion())), e);
        }
    }

    /**
     * The forget set's stored bytes (sealed lines), verified against their hash.
     *
     * @throws JobFailure "the forget-set artifact is missing" or "... is corrupt"
     */
    public byte[] readForgetSet(ArtifactRef ref) throws JobFailure, IOException {
        try {
            return artifacts.read(ref);
        } catch (ArtifactNotFoundException | CorruptArtifactException e) {
            throw unreadable(FORGET_SET, e);
        }
    }

    /**
     * The forget set read (verified), opened in memory and written as the engine's plaintext JSONL to
     * {@code target}, which must lie in the job's scratch folder (deleted when the job ends).
     *
     * @throws JobFailure the reasons of {@link #readForgetSet} and {@link #openForgetSet}
     */
    public Path copyForgetSet(ArtifactRef ref, Path target) throws JobFailure, IOException {
        return Files.write(target, openForgetSet(readForgetSet(ref)));
    }

    /**
     * The plaintext JSONL of a forget set's sealed bytes, each line opened under its member's data key.
     *
     * @throws JobFailure "the forget set does not open: the data key of request R is missing" (destroyed: the set was
     *                    purged) or "... does not decrypt under its data key", or "... is not sealed (line N)"
     */
    public byte[] openForgetSet(byte[] sealed) throws JobFailure, IOException {
        try {
            return SealedLines.open(seal(), sealed);
        } catch (ContentSeal.UnsealException e) {
            // The reason names the member's request id only.
            throw JobFailure.because(AuditReason.of("the forget set does not open: " + AuditReason.unsealFailure(e).text()), e);
        } catch (SealedLines.MalformedException e) {
            throw JobFailure.because(AuditReason.format("the forget set is not sealed content (line %d)", e.line()), e);
        }
    }

    /**
     * An artifact a job reads, copied (verified) to {@code target}.
     *
     * @param what the artifact's name in the reason, an identifier ("importance")
     * @throws JobFailure "the importance artifact is missing" or "... is corrupt"
     */
    public Path copy(ArtifactRef ref, Path target, String what) throws JobFailure, IOException {
        try {
            artifacts.copyTo(ref, target);
            return target;
        } catch (ArtifactNotFoundException | CorruptArtifactException e) {
            throw unreadable(what, e);
        }
    }

    private static final String FORGET_SET = "forget-set";

    private static JobFailure unreadable(String what, IOException e) {
        return JobFailure.because(AuditReason.format(e instanceof CorruptArtifactException
                ? "the %s artifact is corrupt" : "the %s artifact is missing", AuditReason.id(what)), e);
    }
}
