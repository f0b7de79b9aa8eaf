/** Small NDArray memory helpers shared by the engine's packages. */
package dev.loku.core.tensor;
