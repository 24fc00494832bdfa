package io.gadgetexporter.linux;

import static java.util.Objects.requireNonNull;

import io.gadgetexporter.bpf.NativeLibrary;
import io.gadgetexporter.bpf.internal.Cleaners;
import io.gadgetexporter.bpf.internal.Errno;
import io.gadgetexporter.bpf.internal.Native;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.ref.Cleaner;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Pauses the execution of chosen binaries (container runtimes: {@code runc}, {@code crun}) until
 * the agent says yes or no, with fanotify exec-permission events ({@code FAN_OPEN_EXEC_PERM}, Linux
 * 5.0).
 *
 * <h2>Use</h2>
 *
 * <pre>{@code
 * try (Fanotify fanotify = Fanotify.forExecPermission()) {
 *   fanotify.markExecutable(Path.of("/usr/bin/runc"));
 *   List<Fanotify.ExecRequest> requests = new ArrayList<>();
 *   while (running) {
 *     requests.clear();
 *     fanotify.poll(1000, requests);
 *     for (Fanotify.ExecRequest r : requests) {
 *       Optional<List<String>> argv = BlockedExec.arguments(r.pid()); // the new program's argv
 *       ...
 *       fanotify.respond(r, true); // always answer, and soon: the exec waits for it
 *     }
 *   }
 * }
 * }</pre>
 *
 * <h2>What the kernel does</h2>
 *
 * An {@code execve} of a marked file stops in the kernel, after the file was opened and before the
 * old program is replaced, and the task waits (killably, on recent kernels) until {@link #respond}
 * answers. During that wait the task is still the old program, so its memory holds the new
 * program's argv ({@link BlockedExec}). {@code FAN_DENY} makes the {@code execve} fail with {@code
 * EPERM}.
 *
 * <p>Marks are on the inode, not the name: they follow a renamed file and hold for the same file
 * seen through another mount namespace, but a replaced binary (a package upgrade writes a new inode
 * under the same name) is not marked: mark it again. A symlink is followed at mark time.
 *
 * <p>{@link #close()} closes the fanotify fd, and the kernel then allows every exec still waiting,
 * answered or not. The same happens when the agent's process dies, however it dies: a crashed agent
 * never leaves {@code runc} blocked. Events lost to a queue overflow ({@link #overflows()}) are
 * execs the kernel let through without asking.
 *
 * <p>Every request read and not yet answered holds an fd in this process. When the kernel cannot
 * open one more (EMFILE), it denies that exec itself and {@link #poll} reports the error: answer
 * promptly, and leave fd headroom.
 *
 * <h2>Threads</h2>
 *
 * One thread polls. {@link #respond}, {@link #wakeup()} and {@link #close()} may come from any
 * thread; {@code close()} interrupts a {@code poll} in progress (which returns 0) and waits for it
 * to return. A {@code poll} on a closed instance throws {@link IllegalStateException}; {@code
 * respond} on a closed instance does nothing (the kernel has allowed the exec already).
 */
public final class Fanotify implements AutoCloseable {
  /** Events one native call copies at most; a poll keeps reading while calls come back full. */
  static final int BATCH = 256;

  private static final int SLOT_BYTES = 8; // s32 pid, s32 fd: see fanotify.c

  /**
   * One exec waiting for an answer. Holds an fd of the file being executed, open in this process
   * until {@link Fanotify#respond} (or {@link Fanotify#close()}) closes it.
   */
  public static final class ExecRequest {
    private final Fanotify owner;
    private final int pid;
    private final int fd;
    private boolean answered; // guarded by this: the fd number is reused once closed

    ExecRequest(Fanotify owner, int pid, int fd) {
      this.owner = owner;
      this.pid = pid;
      this.fd = fd;
    }

    /**
     * The process calling {@code execve} (its thread group id, which stays its pid after the exec).
     * 0 when it is in a pid namespace this process cannot see.
     */
    public int pid() {
      return pid;
    }

    /** The event's fd: the file being executed, opened read-only for us by the kernel. */
    public int fd() {
      return fd;
    }

    /**
     * The file being executed, as the kernel names it through {@code /proc/self/fd/<fd>}: the
     * resolved path, in this process's mount namespace (" (deleted)" appended if it was unlinked).
     *
     * @throws IllegalStateException once answered: the fd is closed, and its number may already
     *     name another file
     * @throws UncheckedIOException when the link cannot be read
     */
    public synchronized Path file() {
      if (answered) {
        throw new IllegalStateException(this + " is answered; its fd is closed");
      }
      try {
        return Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    /** Whether {@link Fanotify#respond} or {@link Fanotify#close()} has dealt with it. */
    public synchronized boolean isAnswered() {
      return answered;
    }

    /** Marks it answered; returns false if it already was (then its fd is not ours any more). */
    synchronized boolean answer() {
      if (answered) {
        return false;
      }
      answered = true;
      return true;
    }

    @Override
    public String toString() {
      return "ExecRequest[pid=" + pid + ", fd=" + fd + "]";
    }
  }

  private static final class Handle extends Cleaners.NativeHandle {
    Handle(long value) {
      super(value);
    }

    @Override
    protected void free(long value) {
      Native.fanotifyClose(value);
    }
  }

  private final ByteBuffer buffer;
  private final Handle handle;
  private final Cleaner.Cleanable cleanable;
  private final Object pollLock = new Object(); // held by poll, and while freeing
  private final Object stateLock = new Object(); // guards closing, the handle's use, outstanding
  private final Set<ExecRequest> outstanding = new HashSet<>(); // read, not answered; stateLock
  private volatile boolean closing;
  private volatile long overflows;

  private Fanotify(ByteBuffer buffer, long handle) {
    this.buffer = buffer;
    this.handle = new Handle(handle);
    this.cleanable = Cleaners.CLEANER.register(this, this.handle);
  }

  /**
   * A listener for exec-permission events: {@code fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC |
   * FAN_NONBLOCK, O_RDONLY | O_LARGEFILE | O_CLOEXEC)} and an eventfd for {@link #wakeup()}.
   *
   * @throws SystemCallException EPERM without CAP_SYS_ADMIN; EINVAL when the kernel has no
   *     permission events or no {@code FAN_OPEN_EXEC_PERM} (before 5.0), the message says which;
   *     ENOSYS without fanotify
   */
  public static Fanotify forExecPermission() {
    NativeLibrary.load();
    ByteBuffer buffer =
        ByteBuffer.allocateDirect(BATCH * SLOT_BYTES).order(ByteOrder.nativeOrder());
    return new Fanotify(buffer, Native.fanotifyOpen(buffer));
  }

  /**
   * Pauses every exec of {@code file} from now on ({@code fanotify_mark(FAN_MARK_ADD,
   * FAN_OPEN_EXEC_PERM, AT_FDCWD, file)}). A relative path is resolved against {@code user.dir}.
   * Marking the same file twice is harmless.
   *
   * <p>The mark is on the inode: a binary replaced by a new file (package upgrade) needs marking
   * again; watch its directory or re-mark periodically.
   *
   * @throws SystemCallException e.g. ENOENT for a missing file
   * @throws IllegalStateException once closed
   */
  public void markExecutable(Path file) {
    requireNonNull(file, "file");
    byte[] name = file.toAbsolutePath().toString().getBytes(FileNames.CHARSET);
    synchronized (stateLock) {
      requireOpen();
      Native.fanotifyMarkExec(handle.get(), name);
    }
  }

  /**
   * Waits up to {@code timeoutMillis} (-1: no limit; 0: not at all) for exec requests or {@link
   * #wakeup()}, then reads every event queued and appends one {@link ExecRequest} per exec waiting
   * to {@code into}. Each must be answered with {@link #respond}.
   *
   * @return the number appended; 0 after a timeout, a wake-up, a close or a signal
   * @throws SystemCallException when reading the events fails (e.g. EMFILE: the kernel could not
   *     open the event's file in this process, and has denied that exec)
   * @throws IllegalStateException when closed before the call
   */
  public int poll(int timeoutMillis, List<ExecRequest> into) {
    requireNonNull(into, "into");
    if (timeoutMillis < -1) {
      throw new IllegalArgumentException("timeoutMillis must be -1 or more: " + timeoutMillis);
    }
    synchronized (pollLock) {
      requireOpen();
      long h = handle.get();
      int total = 0;
      int n = Native.fanotifyPoll(h, timeoutMillis);
      while (true) {
        if (n < 0) {
          overflows = Native.fanotifyOverflows(h);
          if (total > 0) {
            return total; // these must reach the caller to be answered; a lasting error recurs
          }
          throw SystemCallException.of("read of fanotify events", n);
        }
        take(n, into);
        total += n;
        if (n < BATCH || closing) {
          break;
        }
        n = Native.fanotifyRead(h); // the buffer was full: more may be queued
      }
      overflows = Native.fanotifyOverflows(h);
      return total;
    }
  }

  /** Turns the first {@code n} slots of the buffer into requests. Holds pollLock. */
  private void take(int n, List<ExecRequest> into) {
    synchronized (stateLock) {
      for (int i = 0; i < n; i++) {
        ExecRequest r =
            new ExecRequest(this, buffer.getInt(i * SLOT_BYTES), buffer.getInt(i * SLOT_BYTES + 4));
        outstanding.add(r);
        into.add(r);
      }
    }
  }

  /**
   * Lets the exec go on ({@code allow}) or makes it fail with EPERM, and closes the request's fd.
   * Answering a request again does nothing. Never fails because the process is gone: the kernel's
   * "no such request" (ENOENT) means it no longer waits for an answer.
   *
   * @throws IllegalArgumentException for a request of another instance
   * @throws SystemCallException when the kernel refuses the answer for another reason
   */
  public void respond(ExecRequest request, boolean allow) {
    requireNonNull(request, "request");
    if (request.owner != this) {
      throw new IllegalArgumentException(request + " was read by another Fanotify");
    }
    int rc;
    synchronized (stateLock) {
      if (!request.answer()) {
        return;
      }
      outstanding.remove(request);
      long h = handle.get();
      if (h == 0) { // closed: the kernel allowed it; only the fd is left (close() took it)
        return;
      }
      rc = Native.fanotifyRespond(h, request.fd, allow);
    }
    if (rc < 0 && rc != -Errno.ENOENT && rc != -Errno.EINVAL) {
      throw SystemCallException.of(
          "fanotify response for exec by pid " + request.pid + " (fd " + request.fd + ")", rc);
    }
  }

  /** Makes a {@link #poll} in progress (or the next one) return 0 at once. Any thread. */
  public void wakeup() {
    synchronized (stateLock) {
      if (!closing) {
        Native.fanotifyWakeup(handle.get());
      }
    }
  }

  /**
   * Events that could not be returned: queue overflows ({@code FAN_Q_OVERFLOW}) and events without
   * an fd. Each stands for execs the kernel let through without waiting. Updated by {@link #poll}.
   */
  public long overflows() {
    return overflows;
  }

  /** Whether {@link #close()} was called. */
  public boolean isClosed() {
    return closing;
  }

  /**
   * Interrupts a poll in progress and waits for it, closes the fanotify fd (the kernel then allows
   * every exec waiting, answered or not) and the fds of unanswered requests. Idempotent.
   */
  @Override
  public void close() {
    synchronized (stateLock) {
      if (closing) {
        return;
      }
      closing = true;
      Native.fanotifyWakeup(handle.get());
    }
    // pollLock: no poll is using the fds; stateLock: no respond either. Always in this order.
    synchronized (pollLock) {
      synchronized (stateLock) {
        cleanable.clean();
        for (ExecRequest r : outstanding) {
          if (r.answer()) {
            Native.closeFd(r.fd);
          }
        }
        outstanding.clear();
      }
    }
  }

  private void requireOpen() {
    if (closing) {
      throw new IllegalStateException("fanotify listener is closed");
    }
  }

  @Override
  public String toString() {
    return "Fanotify[exec permission" + (closing ? ", closed" : "") + "]";
  }
}
