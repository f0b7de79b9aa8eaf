package dev.loku.runtime.crypto;

import dev.loku.runtime.config.KeyStoreConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ServiceLoader;

/** Opens the {@link DataKeyStore} a {@link KeyStoreConfig} names: the built-in directory store or a provider's. */
public final class DataKeyStores {

    private DataKeyStores() {
    }

    /** Opens the store; an unknown name or an unusable folder fails here, at start-up, with the field's name. */
    public static DataKeyStore open(KeyStoreConfig config) {
        if (KeyStoreConfig.DIRECTORY.equals(config.store())) {
            if (config.root() == null) {
                throw new IllegalStateException(KeyStoreConfig.ROOT.name() + " must be set for keys.store=directory");
            }
            try {
                return new DirectoryDataKeyStore(config.root());
            } catch (IOException e) {
                throw new UncheckedIOException("cannot open the data key store at " + config.root() + " ("
                        + KeyStoreConfig.ROOT.name() + ")", e);
            }
        }
        for (DataKeyStore.Provider p : ServiceLoader.load(DataKeyStore.Provider.class)) {
            if (p.name().equals(config.store())) {
                return p.open(config);
            }
        }
        throw new IllegalStateException(KeyStoreConfig.STORE.name() + " = " + config.store()
                + " names no data key store: use 'directory' or put a DataKeyStore.Provider of that name on the class path");
    }
}
