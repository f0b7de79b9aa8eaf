/**
 * The model catalogue (docs/pipeline.md): which models may be unlearned, by which tenants, with which retain and
 * unseen data and which {@link dev.loku.runtime.catalogue.UnlearningProfile}. Read from JSON by
 * {@link dev.loku.runtime.catalogue.ModelCatalogue#load}, validated with errors that name the file and the field.
 */
package dev.loku.runtime.catalogue;
