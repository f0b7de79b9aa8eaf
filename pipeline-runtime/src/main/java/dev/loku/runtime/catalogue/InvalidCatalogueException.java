package dev.loku.runtime.catalogue;

/** The model catalogue cannot be used; the message names the file and the field (e.g. {@code models[1].profile.loraRank}). */
public class InvalidCatalogueException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public InvalidCatalogueException(String message) {
        super(message);
    }
}
