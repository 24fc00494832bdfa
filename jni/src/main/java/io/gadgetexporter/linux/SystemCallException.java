package io.gadgetexporter.linux;

import io.gadgetexporter.bpf.internal.Errno;

/**
 * A Linux system call failed; carries the errno that says how.
 *
 * <p>The message names the call and its argument, the errno's description and name, and what the
 * errno means for that call when it is not obvious, e.g. {@code "fanotify_mark(/usr/bin/runc): No
 * such file or directory (ENOENT)"} or {@code "fanotify_init(FAN_CLASS_CONTENT): Operation not
 * permitted (EPERM); fanotify needs CAP_SYS_ADMIN in the initial user namespace"}.
 *
 * <p>Unchecked for the same reason as {@link io.gadgetexporter.bpf.BpfException}: these are setup
 * failures (no privilege, an old kernel, a missing file) that belong in a component's status, not
 * in a catch at every call. The native library constructs it by this constructor's signature.
 */
public final class SystemCallException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final int errno;

  /** {@code errno} may be given negative (as a {@code -errno} result); it is kept positive. */
  public SystemCallException(String message, int errno) {
    super(message);
    this.errno = Math.abs(errno);
  }

  /** For a {@code -errno} result: "{@code call}: Operation not permitted (EPERM)". */
  static SystemCallException of(String call, int errno) {
    return new SystemCallException(call + ": " + Errno.describe(errno), errno);
  }

  /** The positive errno, e.g. 1 for EPERM. */
  public int errno() {
    return errno;
  }

  /** The errno's symbolic name, e.g. {@code "EPERM"}. */
  public String errnoName() {
    return Errno.name(errno);
  }
}
