/**
 * What travels on LoKU Stream's topics: the topic catalogue ({@link dev.loku.schemas.Topics}) and the evolution
 * rule for the event schemas ({@link dev.loku.schemas.SchemaEvolution}, released versions in
 * {@code schemas/history}). The events themselves are Avro classes generated into {@code dev.loku.events} from
 * {@code src/main/avro}.
 */
package dev.loku.schemas;
