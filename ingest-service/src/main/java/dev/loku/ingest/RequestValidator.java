package dev.loku.ingest;

import dev.loku.events.ErasureRequest;
import dev.loku.events.QaPair;
import dev.loku.runtime.audit.AuditReason;
import dev.loku.runtime.catalogue.CatalogueModel;
import dev.loku.runtime.catalogue.ModelCatalogue;
import java.util.List;
import java.util.Optional;

/**
 * Decides whether a decoded request can be unlearned (docs/pipeline.md, step 1), in this order: it has content,
 * no item is blank, the content is within {@code ingest.max.content.bytes}, the model is in the catalogue, and the
 * tenant may file requests for it. The reasons are fixed sentences with numbers: they never quote the request.
 */
final class RequestValidator {

    static final AuditReason NO_CONTENT = AuditReason.of("no texts and no qaPairs");
    static final AuditReason UNKNOWN_MODEL = AuditReason.of("model is not in the model catalogue");
    static final AuditReason TENANT_NOT_ALLOWED = AuditReason.of("tenant is not allowed to file requests for this model");

    private final ModelCatalogue catalogue;
    private final int maxContentBytes;

    RequestValidator(ModelCatalogue catalogue, int maxContentBytes) {
        this.catalogue = catalogue;
        this.maxContentBytes = maxContentBytes;
    }

    /** Empty when the request is acceptable, else why it is rejected. */
    Optional<AuditReason> rejection(ErasureRequest request) {
        List<String> texts = request.getTexts();
        List<QaPair> qas = request.getQaPairs();
        if (texts.isEmpty() && qas.isEmpty()) {
            return Optional.of(NO_CONTENT);
        }
        for (int i = 0; i < texts.size(); i++) {
            if (texts.get(i).isBlank()) {
                return Optional.of(AuditReason.format("text %d of %d is blank", i + 1, texts.size()));
            }
        }
        for (int i = 0; i < qas.size(); i++) {
            if (qas.get(i).getQuestion().isBlank() || qas.get(i).getAnswer().isBlank()) {
                return Optional.of(AuditReason.format("QA pair %d of %d has a blank question or answer", i + 1, qas.size()));
            }
        }
        long bytes = ForgetSetContent.contentBytes(request);
        if (bytes > maxContentBytes) {
            return Optional.of(AuditReason.format("content is %d bytes, over the limit of %d", bytes, maxContentBytes));
        }
        Optional<CatalogueModel> model = catalogue.find(request.getModelId());
        if (model.isEmpty()) {
            return Optional.of(UNKNOWN_MODEL);
        }
        if (!model.get().allows(request.getTenantId())) {
            return Optional.of(TENANT_NOT_ALLOWED);
        }
        return Optional.empty();
    }
}
