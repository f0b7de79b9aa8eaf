package dev.loku.runtime.job;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A job's scratch folder ({@code <root>/<jobId>}; services pass {@code <work dir>/<instance id>} as root, so two
 * instances sharing a disk never share a folder): local copies of the forget set (personal data) and the engine's
 * outputs before they are stored. Emptied when created (a re-run starts clean) and deleted when closed, however the
 * job ends, so no copy of the data outlives its job on local disk.
 */
public final class JobWorkDir implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(JobWorkDir.class);

    private final Path dir;

    private JobWorkDir(Path dir) {
        this.dir = dir;
    }

    public static JobWorkDir create(Path root, UUID jobId) throws IOException {
        Path dir = root.toAbsolutePath().normalize().resolve(jobId.toString());
        deleteRecursively(dir);
        Files.createDirectories(dir);
        return new JobWorkDir(dir);
    }

    public Path path() {
        return dir;
    }

    /** A path inside the folder. */
    public Path resolve(String name) {
        return dir.resolve(name);
    }

    @Override
    public void close() {
        try {
            deleteRecursively(dir);
        } catch (IOException e) {
            LOG.error("event=work_dir_not_deleted path={} error={}", dir, e.getClass().getSimpleName());
        }
    }

    /** Deletes {@code path} and everything under it, deepest first; nothing when it does not exist. */
    public static void deleteRecursively(Path path) throws IOException {
        if (!Files.exists(path)) {
            return;
        }
        try (var walk = Files.walk(path)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
