package dev.loku.worker;

import dev.loku.runtime.job.JobWorkDir;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deletes the epoch checkpoints of jobs that no worker will finish. A job's folder under
 * {@code worker.epoch.checkpoint.dir} is deleted when a worker sees the job end; a folder outlives its job when no
 * worker does (the worker that held it was killed and the set then failed or was purged elsewhere, or its partition's
 * next owner mounts another folder). Its tensors are derived from the forget set, so they must not stay for ever:
 * a folder in which nothing was written for {@code retention} (a running job rewrites its checkpoint after every
 * epoch) is deleted. The sweep runs when the worker starts and before each job.
 */
final class EpochCheckpointSweep {

    private static final Logger LOG = LoggerFactory.getLogger(EpochCheckpointSweep.class);

    private EpochCheckpointSweep() {
    }

    /**
     * Deletes each job folder directly under {@code root} whose newest file (or the folder itself, when empty) was
     * last modified more than {@code retention} before {@code now}, except {@code keep} (the job about to run; may be
     * null). A missing root sweeps nothing. Returns the folders deleted; one that cannot be deleted is logged and
     * tried again at the next sweep.
     */
    static List<Path> sweep(Path root, Duration retention, Instant now, Path keep) {
        List<Path> deleted = new ArrayList<>();
        if (!Files.isDirectory(root)) {
            return deleted;
        }
        Instant cutoff = now.minus(retention);
        try (DirectoryStream<Path> jobs = Files.newDirectoryStream(root, Files::isDirectory)) {
            for (Path job : jobs) {
                if (keep != null && job.equals(keep)) {
                    continue;
                }
                try {
                    Instant touched = lastWrite(job);
                    if (touched.isBefore(cutoff)) {
                        JobWorkDir.deleteRecursively(job);
                        deleted.add(job);
                        LOG.info("event=epoch_checkpoints_swept job_id={} last_written={} retention={}",
                                job.getFileName(), touched, retention);
                    }
                } catch (NoSuchFileException e) {
                    // deleted meanwhile by the worker that finished the job
                } catch (IOException e) {
                    LOG.error("event=epoch_checkpoints_not_deleted job_id={} path={} error={}", job.getFileName(), job,
                            e.getClass().getSimpleName());
                }
            }
        } catch (IOException e) {
            LOG.error("event=epoch_checkpoint_sweep_failed path={} error={}", root, e.getClass().getSimpleName());
        }
        return deleted;
    }

    /** The newest modification time of {@code job} and everything in it. */
    private static Instant lastWrite(Path job) throws IOException {
        Instant newest = Files.getLastModifiedTime(job).toInstant();
        try (Stream<Path> all = Files.walk(job)) {
            for (Path p : (Iterable<Path>) all::iterator) {
                Instant t = Files.getLastModifiedTime(p).toInstant();
                if (t.isAfter(newest)) {
                    newest = t;
                }
            }
        }
        return newest;
    }
}
