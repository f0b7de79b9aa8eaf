package dev.loku.runtime.artifact;

import dev.loku.events.ArtifactRef;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link ArtifactStore} in a folder (local disk, or a volume every service mounts). Layout under the root:
 * <pre>
 * blobs/sha256/ab/abcdef...   one file per blob, named by its hash (first two hex digits fan out the folder)
 * trees/abcdef...             an empty marker per stored tree manifest, so deleteTree can see which blobs others share
 * tmp/                        writes in progress; moved into blobs/ when complete
 * </pre>
 * Refs carry {@code file:} URIs of the blob; the store finds a blob by its sha256, so a ref stays valid when the
 * root is mounted elsewhere. Concurrent writers of the same bytes are harmless (same name, same content, atomic
 * move). {@link #deleteTree} must not race a {@link #putTree} sharing files; the pipeline only deletes forget data,
 * which no tree shares.
 */
public final class DirectoryArtifactStore implements ArtifactStore {

    private static final Logger LOG = LoggerFactory.getLogger(DirectoryArtifactStore.class);
    private static final int BUFFER = 1 << 16;

    private final Path root;
    private final Path blobs;
    private final Path trees;
    private final Path tmp;
    /** {@code file:} URI of blobs/sha256/, ending in a slash. */
    private final String blobsUri;

    /** A store rooted at {@code root}, created if missing. */
    public DirectoryArtifactStore(Path root) throws IOException {
        this.root = root.toAbsolutePath().normalize();
        this.blobs = this.root.resolve("blobs").resolve("sha256");
        this.trees = this.root.resolve("trees");
        this.tmp = this.root.resolve("tmp");
        Files.createDirectories(blobs);
        Files.createDirectories(trees);
        Files.createDirectories(tmp);
        String u = blobs.toUri().toString();
        this.blobsUri = u.endsWith("/") ? u : u + "/";
    }

    /** The root folder. */
    public Path root() {
        return root;
    }

    @Override
    public ArtifactRef put(byte[] bytes) throws IOException {
        Objects.requireNonNull(bytes, "bytes");
        String sha = Sha256.hex(bytes);
        Path target = blobPath(sha);
        if (Files.isRegularFile(target) && Files.size(target) == bytes.length) {
            return ref(sha, bytes.length);
        }
        // One open of a fresh private file in tmp/ (not createTempFile and then a second open to write), one rename;
        // the partial is only deleted when the rename did not happen.
        Path partial = tmp.resolve("put-" + UUID.randomUUID() + ".partial");
        boolean moved = false;
        try {
            try (SeekableByteChannel out = Files.newByteChannel(partial, NEW_PRIVATE_FILE, privateFile())) {
                ByteBuffer b = ByteBuffer.wrap(bytes);
                while (b.hasRemaining()) {
                    out.write(b);
                }
            }
            moveIntoPlace(partial, target);
            moved = true;
        } finally {
            if (!moved) {
                Files.deleteIfExists(partial);
            }
        }
        return ref(sha, bytes.length);
    }

    @Override
    public ArtifactRef putFile(Path file) throws IOException {
        Path partial = tempFile();
        try {
            MessageDigest sha = Sha256.digest();
            long size;
            try (InputStream in = Files.newInputStream(file);
                 OutputStream out = new DigestOutputStream(Files.newOutputStream(partial), sha)) {
                size = in.transferTo(out);
            }
            String hex = HexFormat.of().formatHex(sha.digest());
            Path target = blobPath(hex);
            if (!(Files.isRegularFile(target) && Files.size(target) == size)) {
                moveIntoPlace(partial, target);
            }
            return ref(hex, size);
        } finally {
            Files.deleteIfExists(partial);
        }
    }

    @Override
    public byte[] read(ArtifactRef ref) throws IOException {
        Path path = existing(ref);
        byte[] bytes = Files.readAllBytes(path);
        String found = Sha256.hex(bytes);
        if (bytes.length != ref.getSizeBytes() || !found.equals(ref.getSha256())) {
            throw corrupt(ref, bytes.length, found);
        }
        return bytes;
    }

    @Override
    public void copyTo(ArtifactRef ref, Path target) throws IOException {
        Path source = existing(ref);
        Path dir = target.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path partial = dir.resolve("." + target.getFileName() + ".partial-" + UUID.randomUUID());
        try {
            MessageDigest sha = Sha256.digest();
            long size;
            try (InputStream in = Files.newInputStream(source);
                 OutputStream out = new DigestOutputStream(Files.newOutputStream(partial), sha)) {
                size = in.transferTo(out);
            }
            String found = HexFormat.of().formatHex(sha.digest());
            if (size != ref.getSizeBytes() || !found.equals(ref.getSha256())) {
                throw corrupt(ref, size, found);
            }
            Files.move(partial, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(partial);
        }
    }

    @Override
    public boolean exists(ArtifactRef ref) {
        return Sha256.isHex(ref.getSha256()) && Files.isRegularFile(blobPath(ref.getSha256()));
    }

    @Override
    public boolean delete(ArtifactRef ref) throws IOException {
        checkSha(ref);
        return Files.deleteIfExists(blobPath(ref.getSha256()));
    }

    @Override
    public ArtifactRef putTree(Path folder) throws IOException {
        Path base = folder.toAbsolutePath().normalize();
        if (!Files.isDirectory(base)) {
            throw new NoSuchFileException(folder.toString(), null, "not a folder");
        }
        List<TreeManifest.Entry> entries = new ArrayList<>();
        List<Path> files;
        try (Stream<Path> walk = Files.walk(base)) {
            files = walk.filter(p -> Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)).sorted().toList();
        }
        for (Path file : files) {
            ArtifactRef blob = putFile(file);
            String relative = base.relativize(file).toString().replace(file.getFileSystem().getSeparator(), "/");
            entries.add(new TreeManifest.Entry(relative, blob.getSha256(), blob.getSizeBytes()));
        }
        ArtifactRef manifest = put(new TreeManifest(entries).toJson());
        Files.write(trees.resolve(manifest.getSha256()), new byte[0]);
        return manifest;
    }

    @Override
    public TreeManifest manifest(ArtifactRef treeRef) throws IOException {
        return TreeManifest.parse(read(treeRef), "artifact sha256:" + treeRef.getSha256());
    }

    @Override
    public Path materialiseTree(ArtifactRef treeRef, Path target) throws IOException {
        TreeManifest manifest = manifest(treeRef);
        Path dest = target.toAbsolutePath().normalize();
        if (Files.exists(dest)) {
            try (DirectoryStream<Path> s = Files.newDirectoryStream(dest)) {
                if (s.iterator().hasNext()) {
                    throw new FileAlreadyExistsException(dest.toString(), null, "folder is not empty");
                }
            }
            Files.delete(dest);
        }
        Files.createDirectories(dest.getParent());
        // Build next to the target and rename at the end: a folder at `target` is always complete.
        Path building = dest.resolveSibling("." + dest.getFileName() + ".partial-" + UUID.randomUUID());
        try {
            for (TreeManifest.Entry e : manifest.files()) {
                Path file = building.resolve(e.path()).normalize();
                if (!file.startsWith(building)) {
                    throw new IOException("manifest sha256:" + treeRef.getSha256() + " lists a path outside the tree");
                }
                copyTo(new ArtifactRef(uri(e.sha256()), e.sha256(), e.sizeBytes()), file);
            }
            Files.createDirectories(building);
            Files.move(building, dest, StandardCopyOption.ATOMIC_MOVE);
            return target;
        } finally {
            deleteRecursively(building);
        }
    }

    @Override
    public boolean deleteTree(ArtifactRef treeRef) throws IOException {
        checkSha(treeRef);
        if (!exists(treeRef)) {
            Files.deleteIfExists(trees.resolve(treeRef.getSha256()));
            return false;
        }
        TreeManifest manifest = manifest(treeRef);
        Files.deleteIfExists(trees.resolve(treeRef.getSha256()));
        Set<String> shared = new HashSet<>();
        try (DirectoryStream<Path> others = Files.newDirectoryStream(trees)) {
            for (Path marker : others) {
                String sha = marker.getFileName().toString();
                try {
                    byte[] json = Files.readAllBytes(blobPath(sha));
                    TreeManifest.parse(json, "manifest " + sha).files().forEach(e -> shared.add(e.sha256()));
                } catch (IOException e) {
                    // Cannot tell what that tree holds: keep every blob rather than break it.
                    LOG.warn("event=artifact_tree_unreadable sha256={} action=keep_all_blobs", sha);
                    return deleteBlob(treeRef.getSha256());
                }
            }
        }
        for (TreeManifest.Entry e : manifest.files()) {
            if (!shared.contains(e.sha256())) {
                deleteBlob(e.sha256());
            }
        }
        return deleteBlob(treeRef.getSha256());
    }

    private boolean deleteBlob(String sha) throws IOException {
        return Files.deleteIfExists(blobPath(sha));
    }

    private Path existing(ArtifactRef ref) throws IOException {
        checkSha(ref);
        Path path = blobPath(ref.getSha256());
        if (!Files.isRegularFile(path)) {
            throw new ArtifactNotFoundException(ref);
        }
        return path;
    }

    private static void checkSha(ArtifactRef ref) {
        if (!Sha256.isHex(ref.getSha256())) {
            throw new IllegalArgumentException("artifact ref " + ref.getUri() + " has no valid sha256");
        }
    }

    private static CorruptArtifactException corrupt(ArtifactRef ref, long size, String found) {
        LOG.error("event=artifact_corrupt sha256={} expected_bytes={} found_bytes={} found_sha256={}",
                ref.getSha256(), ref.getSizeBytes(), size, found);
        return new CorruptArtifactException(ref, size + " bytes with sha256 " + found);
    }

    private Path blobPath(String sha) {
        return blobs.resolve(sha.substring(0, 2)).resolve(sha);
    }

    private String uri(String sha) {
        // Path.toUri stats the file (to add a slash to folders): a blob's URI is the blobs folder's plus two hex names.
        return blobsUri + sha.substring(0, 2) + "/" + sha;
    }

    private ArtifactRef ref(String sha, long size) {
        return new ArtifactRef(uri(sha), sha, size);
    }

    private Path tempFile() throws IOException {
        return Files.createTempFile(tmp, "put-", ".partial");
    }

    private static final Set<OpenOption> NEW_PRIVATE_FILE = Set.of(StandardOpenOption.CREATE_NEW,
            StandardOpenOption.WRITE);
    private static final boolean POSIX = FileSystems.getDefault().supportedFileAttributeViews().contains("posix");

    /** Owner read/write only, as {@link Files#createTempFile} makes its files (where the file system has modes). */
    private static FileAttribute<?>[] privateFile() {
        return POSIX ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(
                PosixFilePermissions.fromString("rw-------"))} : new FileAttribute<?>[0];
    }

    private static void moveIntoPlace(Path partial, Path target) throws IOException {
        try {
            try {
                Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (NoSuchFileException firstOfItsFolder) {
                // The fan-out folder does not exist yet (the first blob with these two hex digits): make it, once.
                Files.createDirectories(target.getParent());
                Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("the artifact store needs atomic renames within " + target.getParent()
                    + "; tmp/ and blobs/ must be on one file system", e);
        }
    }

    private static void deleteRecursively(Path path) throws IOException {
        if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(path)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
