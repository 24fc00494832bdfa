package io.gadgetexporter.bpf;

import java.util.Optional;

/**
 * {@link BpfObject#load()} failed. When the kernel's verifier rejected a program, {@link
 * #programName()} names it and {@link #verifierLog()} holds the last ~4 KiB of the verifier's log
 * (the end of the log is where it says why); the message is then {@code "load of program 'p'
 * failed: Permission denied (EACCES)\n<verifier tail>"}. When something else failed (a map could
 * not be created, a CO-RE relocation could not be resolved) the program name is empty, the verifier
 * log is {@code ""} and the message carries libbpf's warnings instead.
 */
public class BpfLoadException extends BpfException {
  private static final long serialVersionUID = 1L;

  private final String programName;
  private final String verifierLog;

  /** {@code programName} may be null (no single program failed); {@code verifierLog} may be "". */
  public BpfLoadException(String message, int errno, String programName, String verifierLog) {
    super(message, errno);
    this.programName = programName;
    this.verifierLog = verifierLog == null ? "" : verifierLog;
  }

  /** The program the kernel rejected, if the failure was a program's. */
  public Optional<String> programName() {
    return Optional.ofNullable(programName);
  }

  /** The tail of the verifier log, or {@code ""} when the verifier was not the one to fail. */
  public String verifierLog() {
    return verifierLog;
  }
}
