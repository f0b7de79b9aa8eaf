package dev.loku.core.model;

/**
 * A linear projection an adapter can be installed on.
 *
 * @param module Hugging Face module name, e.g. {@code model.layers.3.self_attn.q_proj} (PEFT's key prefix)
 * @param weightName the parameter name, {@code module + ".weight"}
 * @param kind the short name LoRA targets use: q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj
 * @param layer the decoder layer index
 * @param outFeatures rows of the weight
 * @param inFeatures columns of the weight
 */
public record LinearProjection(String module, String weightName, String kind, int layer, int outFeatures,
                               int inFeatures) {}
