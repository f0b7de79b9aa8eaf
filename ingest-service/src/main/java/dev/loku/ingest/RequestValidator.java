package dev.loku.ingest;

import dev.loku.events.ErasureRequest;
import dev.loku.events.QaPair;
import dev.loku.runtime.audit.AuditReason;
import dev.loku.runtime.catalogue.CatalogueModel;
import dev.loku.runtime.catalogue.ModelCatalogue;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;

/**
 * Decides whether a decoded request can be unlearned (docs/pipeline.md, step 1), in this order: with
 * {@code ingest.tenant.header} set, the gateway's header names the tenant and the request claims the same one; it has
 * content, no item is blank, the content is within {@code ingest.max.content.bytes}, the model is in the catalogue,
 * and the tenant may file requests for it. The reasons are fixed sentences with numbers: they never quote the request.
 */
final class RequestValidator {

    static final AuditReason NO_CONTENT = AuditReason.of("no texts and no qaPairs");
    static final AuditReason UNKNOWN_MODEL = AuditReason.of("model is not in the model catalogue");
    static final AuditReason TENANT_NOT_ALLOWED = AuditReason.of("tenant is not allowed to file requests for this model");

    static final AuditReason NO_TENANT_HEADER = AuditReason.of("the request carries no tenant header from the gateway");
    static final AuditReason TENANT_MISMATCH = AuditReason.of(
            "the claimed tenant differs from the tenant the gateway authenticated");

    private final ModelCatalogue catalogue;
    private final int maxContentBytes;
    private final String tenantHeader;

    /** @param tenantHeader the header naming the authenticated tenant, or null to trust the payload's tenantId */
    RequestValidator(ModelCatalogue catalogue, int maxContentBytes, String tenantHeader) {
        this.catalogue = catalogue;
        this.maxContentBytes = maxContentBytes;
        this.tenantHeader = tenantHeader;
    }

    /** Empty when the request, with the headers of its record, is acceptable, else why it is rejected. */
    Optional<AuditReason> rejection(ErasureRequest request, Headers headers) {
        if (tenantHeader != null) {
            Header h = headers.lastHeader(tenantHeader);
            if (h == null || h.value() == null) {
                return Optional.of(NO_TENANT_HEADER);
            }
            if (!new String(h.value(), StandardCharsets.UTF_8).equals(request.getTenantId())) {
                return Optional.of(TENANT_MISMATCH);
            }
        }
        return rejection(request);
    }

    /** Empty when the request is acceptable, else why it is rejected (the tenant as the payload claims it). */
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
