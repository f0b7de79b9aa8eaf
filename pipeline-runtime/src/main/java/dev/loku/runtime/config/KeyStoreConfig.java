package dev.loku.runtime.config;

import java.nio.file.Path;
import java.util.List;

/**
 * Which data key store ({@code dev.loku.runtime.crypto.DataKeyStore}) the services of a pipeline (and {@code loku submit}, which seals requests) share:
 * {@code keys.store} names the implementation, {@code keys.root} is its folder. {@code directory} is the
 * file-backed directory store; any other name is looked up among the {@code DataKeyStore.Provider}s on
 * the class path (a {@code ServiceLoader}); {@code DataKeyStores.open} opens it, so a KMS- or Vault-backed store
 * plugs in without a code change here.
 *
 * @param store the implementation's name
 * @param root  its folder: for {@code directory} the key files; a provider may use it or not
 */
public record KeyStoreConfig(String store, Path root) {

    /** The built-in implementation. */
    public static final String DIRECTORY = "directory";

    public static final ConfigField<String> STORE = ConfigField.of("keys.store", ConfigType.STRING)
            .defaultValue(DIRECTORY)
            .validator(Validator.identifier())
            .description("The data key store of crypto-shredding (one AES-256 key per request; destroying it at "
                    + "PURGED makes every copy of the request's content unreadable): 'directory' (one key file per "
                    + "request under keys.root) or the name of a DataKeyStore.Provider on the class path. Every "
                    + "service of one pipeline and every sealing producer must use the same store.")
            .build();

    public static final ConfigField<Path> ROOT = ConfigField.of("keys.root", ConfigType.PATH)
            .optional()
            .description("Folder of the data keys (default: <artifacts.root>/keys). Shared by every service of one "
                    + "pipeline and by the producers that seal requests; put it on storage that is NOT backed up or "
                    + "snapshotted with the artifact store or the Kafka logs, or a destroyed key survives in the "
                    + "copy (docs/operations.md).")
            .build();

    /** The fields, for a config group. */
    public static final List<ConfigField<?>> FIELDS = List.of(STORE, ROOT);

    /** Reads the fields; an unset {@code keys.root} is {@code <artifactsRoot>/keys} (null artifacts root: required). */
    public static KeyStoreConfig from(LokuConfig config, Path artifactsRoot) {
        Path root = config.get(ROOT);
        if (root == null && artifactsRoot != null) {
            root = artifactsRoot.resolve("keys");
        }
        return new KeyStoreConfig(config.get(STORE), root);
    }
}
