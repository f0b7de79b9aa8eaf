package dev.loku.runtime.catalogue;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Set;

/**
 * One model of the {@link ModelCatalogue}.
 *
 * @param id             the model id requests name (ErasureRequest.modelId)
 * @param baseCheckpoint version {@code v0}: a Hugging Face folder or a llama2.c {@code .bin} file
 * @param tenants        tenants allowed to file erasure requests against this model
 * @param retainData     JSONL of what the model must keep (retain set)
 * @param unseenData     JSONL of text of the same kind the model never saw (sets the forgetting thresholds)
 * @param generalData    JSONL of held-out general text (neither forget nor retain data): the general-ability guard
 *                       fails a candidate whose NLL on it rises more than the profile's general tolerance
 * @param profile        how it is unlearned
 */
public record CatalogueModel(String id, Path baseCheckpoint, Set<String> tenants, Path retainData, Path unseenData,
                             Path generalData, UnlearningProfile profile) {

    public CatalogueModel {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(baseCheckpoint, "baseCheckpoint");
        tenants = Set.copyOf(tenants);
        Objects.requireNonNull(retainData, "retainData");
        Objects.requireNonNull(unseenData, "unseenData");
        Objects.requireNonNull(generalData, "generalData");
        Objects.requireNonNull(profile, "profile");
    }

    /** Whether {@code tenantId} may file requests against this model. */
    public boolean allows(String tenantId) {
        return tenants.contains(tenantId);
    }
}
