package dev.loku.core.testing;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A background thread that keeps the garbage collector and the direct-memory allocator busy: it allocates direct
 * buffers of varied sizes, fills them with {@code 0x7f} bytes, drops the oldest and asks for a collection every few
 * milliseconds. Memory freed by a collection is soon handed out again and overwritten, so an array that still reads
 * a freed Java buffer sees {@code 0x7f7f7f7f} garbage instead of its old values. That turns a rare use-after-free
 * into a likely one: results computed under pressure must equal results computed without it, bit for bit.
 */
public final class NativeMemoryPressure implements AutoCloseable {

    private static final int KEPT = 512;

    private final Thread thread;
    private final AtomicLong collections = new AtomicLong();
    private volatile boolean running = true;

    private NativeMemoryPressure() {
        thread = new Thread(this::churn, "native-memory-pressure");
        thread.setDaemon(true);
    }

    /** Starts the pressure; close to stop it. */
    public static NativeMemoryPressure start() {
        NativeMemoryPressure p = new NativeMemoryPressure();
        p.thread.start();
        return p;
    }

    /** How many collections the thread has asked for so far (to show the pressure was on). */
    public long collections() {
        return collections.get();
    }

    private void churn() {
        byte[] fill = new byte[64 << 10];
        Arrays.fill(fill, (byte) 0x7f);
        Deque<ByteBuffer> kept = new ArrayDeque<>();
        long n = 0;
        while (running) {
            int size = 64 << (n % 11); // 64 B .. 64 KiB
            ByteBuffer b = ByteBuffer.allocateDirect(size);
            b.put(fill, 0, size);
            kept.addLast(b);
            if (kept.size() > KEPT) {
                kept.removeFirst();
            }
            if (++n % 64 == 0) {
                kept.clear();
                System.gc();
                collections.incrementAndGet();
                try {
                    Thread.sleep(10);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        thread.join(10_000);
    }
}
