package dev.loku.runtime.job;

import dev.loku.runtime.artifact.DirectoryArtifactStore;
import dev.loku.runtime.artifact.ForgetSetLedger;
import dev.loku.runtime.artifact.ModelVersionStore;
import dev.loku.runtime.catalogue.ModelCatalogue;
import dev.loku.runtime.config.CommonConfig;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * The stores a job service reads and writes, opened the same way by the Fisher, worker and eval services from the
 * common configuration: the model catalogue (with its files checked, since these services read them), the artifact
 * store, the model versions and the forget-set ledger, all under {@code artifacts.root}.
 */
public record PipelineStores(ModelCatalogue catalogue, DirectoryArtifactStore artifacts, ModelVersionStore versions,
                             ForgetSetLedger ledger) {

    /**
     * Opens them; a bad catalogue, a missing checkpoint or data file, or an unusable store fails here, at start-up.
     */
    public static PipelineStores open(CommonConfig common) {
        ModelCatalogue catalogue = ModelCatalogue.load(common.modelsCatalogue());
        catalogue.checkFilesExist();
        DirectoryArtifactStore store;
        try {
            store = new DirectoryArtifactStore(common.artifactsRoot());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the artifact store at " + common.artifactsRoot(), e);
        }
        return new PipelineStores(catalogue, store, ModelVersionStore.inDirectory(store, catalogue),
                ForgetSetLedger.inDirectory(store));
    }
}
