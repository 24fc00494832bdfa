package io.gadgetexporter.bpf;

import static java.util.Objects.requireNonNull;

import io.gadgetexporter.bpf.internal.Errno;
import io.gadgetexporter.bpf.internal.Native;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * One program of a {@link BpfObject}, and the ways to attach it.
 *
 * <p>Each {@code attach*} method returns a {@link BpfLink} that keeps the program attached until it
 * is closed (or the object is). They need a loaded object and throw {@link BpfException} when the
 * kernel refuses, with the errno and libbpf's explanation.
 *
 * <p>Which one to use: {@link #attach()} follows the program's {@code SEC("...")} (libbpf knows
 * {@code tracepoint/cat/name}, {@code raw_tp/name}, {@code tp_btf/name}, {@code iter/name}, {@code
 * uprobe/path:func}, ...); the specific methods attach where the caller decides at run time, and
 * perf events and socket filters always need them (their target is not in the section name).
 */
public final class BpfProgram {
  private final BpfObject owner;
  private final long handle;
  private final String name;
  private final String sectionName;
  private final int typeId;

  BpfProgram(BpfObject owner, long handle) {
    this.owner = owner;
    this.handle = handle;
    this.name = Native.programName(handle);
    this.sectionName = Native.programSection(handle);
    this.typeId = Native.programType(handle);
  }

  public BpfObject object() {
    return owner;
  }

  /** The C function's name. */
  public String name() {
    return name;
  }

  /** The ELF section, i.e. what {@code SEC("...")} said, e.g. {@code tracepoint/syscalls/x}. */
  public String sectionName() {
    return sectionName;
  }

  /** libbpf's name of the program type, e.g. {@code "tracepoint"}, {@code "socket_filter"}. */
  public String type() {
    return Native.programTypeName(typeId);
  }

  /** The kernel's {@code enum bpf_prog_type} value. */
  public int typeId() {
    return typeId;
  }

  /** The hook family the section name asks for, if it is one {@link FeatureProbe} knows. */
  public Optional<AttachKind> attachKind() {
    return AttachKind.forSection(sectionName);
  }

  /** The program's fd once loaded, else -1. */
  public int fd() {
    synchronized (owner) {
      owner.liveHandle();
      return Native.programFd(handle);
    }
  }

  public boolean autoload() {
    synchronized (owner) {
      owner.liveHandle();
      return Native.programAutoload(handle);
    }
  }

  /**
   * Whether {@link BpfObject#load()} loads this program (default: yes). Turning it off keeps a
   * program the kernel cannot take (an fentry variant on a kernel without fentry) from failing the
   * whole object.
   *
   * @throws IllegalStateException after load
   */
  public void setAutoload(boolean autoload) {
    synchronized (owner) {
      owner.requireOpened("set autoload of program '" + name + "'");
      Native.programSetAutoload(handle, autoload);
    }
  }

  /** Attaches as the program's section name says (see the class comment). */
  public BpfLink attach() {
    synchronized (owner) {
      owner.requireLoaded("attach program '" + name + "'");
      long link;
      try {
        link = Native.programAttach(handle);
      } catch (BpfException e) {
        throw attachKind().orElse(null) == AttachKind.TRACEPOINT ? withTracefsHint(e) : e;
      }
      return owner.register(new BpfLink(owner, this, link, "section " + sectionName));
    }
  }

  /** Attaches to {@code /sys/kernel/tracing/events/<category>/<name>}. */
  public BpfLink attachTracepoint(String category, String name) {
    requireNonNull(category, "category");
    requireNonNull(name, "name");
    synchronized (owner) {
      owner.requireLoaded("attach program '" + this.name + "'");
      long link;
      try {
        link = Native.programAttachTracepoint(handle, category, name);
      } catch (BpfException e) {
        throw withTracefsHint(e);
      }
      return owner.register(new BpfLink(owner, this, link, "tracepoint " + category + "/" + name));
    }
  }

  /** Attaches a {@code raw_tp} (or {@code tp_btf}) program to the raw tracepoint {@code name}. */
  public BpfLink attachRawTracepoint(String name) {
    requireNonNull(name, "name");
    synchronized (owner) {
      owner.requireLoaded("attach program '" + this.name + "'");
      long link = Native.programAttachRawTracepoint(handle, name);
      return owner.register(new BpfLink(owner, this, link, "raw tracepoint " + name));
    }
  }

  /**
   * Attaches a uprobe (or uretprobe) at a file offset of an executable or library.
   *
   * @param pid the process to trace, or -1 for every process that maps {@code path}
   * @param offset the probed instruction's offset in the file (see {@link Bpf#symbolFileOffset})
   */
  public BpfLink attachUprobe(boolean retprobe, int pid, String path, long offset) {
    requireNonNull(path, "path");
    return uprobe(retprobe, pid, path, offset, null);
  }

  /**
   * Attaches a uprobe (or uretprobe) at the entry of function {@code function} of {@code path},
   * which libbpf finds in the file's symbol tables.
   *
   * @param pid the process to trace, or -1 for every process that maps {@code path}
   */
  public BpfLink attachUprobe(boolean retprobe, int pid, String path, String function) {
    requireNonNull(path, "path");
    requireNonNull(function, "function");
    return uprobe(retprobe, pid, path, 0, function);
  }

  private BpfLink uprobe(boolean retprobe, int pid, String path, long offset, String function) {
    synchronized (owner) {
      owner.requireLoaded("attach program '" + name + "'");
      long link = Native.programAttachUprobe(handle, retprobe, pid, path, offset, function);
      String where = path + ":" + (function != null ? function : "0x" + Long.toHexString(offset));
      return owner.register(
          new BpfLink(owner, this, link, (retprobe ? "uretprobe " : "uprobe ") + where));
    }
  }

  /**
   * Attaches an {@code iter/...} program; {@link BpfIterator#read()} then runs it. Iterators
   * produce snapshots (every task, every socket) on demand instead of events.
   */
  public BpfIterator attachIterator() {
    synchronized (owner) {
      owner.requireLoaded("attach program '" + name + "'");
      long link = Native.programAttachIterator(handle);
      return owner.register(new BpfIterator(owner, this, link));
    }
  }

  /**
   * Runs a {@code perf_event} program {@code frequencyHz} times a second on one CPU, driven by the
   * software cpu-clock event (no hardware PMU needed, so it works in VMs). Attach once per CPU to
   * sample them all. Closing the link also closes the perf event.
   */
  public BpfLink attachPerfEvent(int cpu, long frequencyHz) {
    synchronized (owner) {
      owner.requireLoaded("attach program '" + name + "'");
      long link = Native.programAttachPerfEvent(handle, cpu, frequencyHz);
      return owner.register(
          new BpfLink(owner, this, link, "cpu-clock CPU " + cpu + " @" + frequencyHz + " Hz"));
    }
  }

  /**
   * Attaches a {@code socket} program to a socket with {@code SO_ATTACH_BPF}; closing the link
   * detaches it ({@code SO_DETACH_BPF}). Close the link before the socket: afterwards the
   * descriptor number may belong to another socket. {@link SocketFilterTarget} gives a packet
   * socket for seeing an interface's traffic.
   */
  public BpfLink attachSocketFilter(int socketFd) {
    synchronized (owner) {
      owner.requireLoaded("attach program '" + name + "'");
      long link = Native.programAttachSocketFilter(handle, socketFd);
      return owner.register(new BpfLink(owner, this, link, "socket fd " + socketFd));
    }
  }

  /**
   * Runs and run time so far, from the kernel. Both stay 0 unless BPF statistics are enabled (see
   * {@link BpfStats#enable()}): the kernel only times programs when asked to.
   */
  public ProgramStats stats() {
    synchronized (owner) {
      owner.requireLoaded("read stats of program '" + name + "'");
      int fd = Native.programFd(handle);
      if (fd < 0) {
        throw new IllegalStateException("program '" + name + "' was not loaded (autoload off)");
      }
      long[] s = Native.programStats(fd);
      return new ProgramStats(s[0], s[1]);
    }
  }

  long handle() {
    return handle;
  }

  /**
   * libbpf finds a tracepoint's id in tracefs; without tracefs every tracepoint "does not exist"
   * (ENOENT). Say what is actually missing.
   */
  private static BpfException withTracefsHint(BpfException e) {
    if (e.errno() != Errno.ENOENT
        || Files.isDirectory(Path.of("/sys/kernel/tracing/events"))
        || Files.isDirectory(Path.of("/sys/kernel/debug/tracing/events"))) {
      return e;
    }
    return new BpfException(
        e.getMessage()
            + "\ntracefs is not mounted (no /sys/kernel/tracing/events): mount it with"
            + " 'mount -t tracefs nodev /sys/kernel/tracing' (in a container: mount the host's)",
        e.errno(),
        e);
  }

  @Override
  public String toString() {
    return "BpfProgram[" + name + ", " + sectionName + "]";
  }
}
