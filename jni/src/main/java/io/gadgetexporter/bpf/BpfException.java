package io.gadgetexporter.bpf;

import io.gadgetexporter.bpf.internal.Errno;

/**
 * A kernel or libbpf operation failed; carries the errno that says how.
 *
 * <p>Unchecked because almost every failure here is a setup failure the caller cannot repair on the
 * spot (no privilege, kernel without the feature, a broken object): it should travel to the code
 * that reports a gadget's status, not be caught at every call. The message names the operation, the
 * errno's description and name, and libbpf's own warnings when it printed any, e.g. {@code "attach
 * of program 'x' to tracepoint a/b failed: No such file or directory (ENOENT)"}.
 */
public class BpfException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final int errno;

  /** {@code errno} may be given negative (as libbpf returns it); it is kept positive. */
  public BpfException(String message, int errno) {
    super(message);
    this.errno = Math.abs(errno);
  }

  public BpfException(String message, int errno, Throwable cause) {
    super(message, cause);
    this.errno = Math.abs(errno);
  }

  /** For a hot call's {@code -errno} result: "{@code action}: Operation not permitted (EPERM)". */
  public static BpfException fromErrno(String action, int errno) {
    return new BpfException(action + ": " + Errno.describe(errno), errno);
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
