package io.gadgetexporter.bpf;

import static java.util.Objects.requireNonNull;

import io.gadgetexporter.bpf.internal.Cleaners;
import io.gadgetexporter.bpf.internal.Native;
import java.lang.ref.Cleaner;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * A BPF object file (clang's {@code .bpf.o}) opened with libbpf: its programs and maps, set up
 * before {@link #load()} and used after it.
 *
 * <p>Life cycle: {@link #open} &rarr; configure ({@link #setConstant}, {@link BpfMap#resize},
 * {@link BpfProgram#setAutoload}) &rarr; {@link #load()} (the kernel verifies the programs and
 * creates the maps) &rarr; attach programs, read maps &rarr; {@link #close()}. A failed load cannot
 * be retried on the same object (libbpf's rule): open it again.
 *
 * <p>{@link #close()} detaches every link made from this object's programs and closes every {@link
 * RingBufferReader} made on its maps, then frees the object (its programs and maps go away with
 * their last reference). It is idempotent. Methods are thread-safe; they serialize on this object,
 * which is fine because none of them is on an event path.
 */
public final class BpfObject implements AutoCloseable {
  private enum State {
    OPENED,
    LOADED,
    LOAD_FAILED,
    CLOSED
  }

  private static final class Handle extends Cleaners.NativeHandle {
    Handle(long value) {
      super(value);
    }

    @Override
    protected void free(long value) {
      Native.objectClose(value);
    }
  }

  private final String name;
  private final Handle handle;
  private final Cleaner.Cleanable cleanable;
  private final List<BpfProgram> programs;
  private final List<BpfMap> maps;
  private final Set<BpfLink> links = new LinkedHashSet<>(); // guarded by this
  private final Set<RingBufferReader> readers = new LinkedHashSet<>(); // guarded by this
  private State state = State.OPENED; // guarded by this
  private Btf btf; // guarded by this

  private BpfObject(String name, long h) {
    this.name = name;
    this.handle = new Handle(h);
    this.cleanable = Cleaners.CLEANER.register(this, handle);
    List<BpfProgram> ps = new ArrayList<>();
    for (long p : Native.objectPrograms(h)) {
      ps.add(new BpfProgram(this, p));
    }
    List<BpfMap> ms = new ArrayList<>();
    for (long m : Native.objectMaps(h)) {
      ms.add(new BpfMap(this, m));
    }
    this.programs = Collections.unmodifiableList(ps);
    this.maps = Collections.unmodifiableList(ms);
  }

  /**
   * Opens an object from its ELF bytes. Nothing reaches the kernel yet.
   *
   * @param name the object's name (libbpf prefixes its internal maps with it, e.g. {@code
   *     name.rodata}); a gadget's name is a good choice
   * @throws BpfException when libbpf cannot parse the ELF
   */
  public static BpfObject open(String name, byte[] elf) {
    requireNonNull(name, "name");
    requireNonNull(elf, "elf");
    NativeLibrary.load();
    return new BpfObject(name, Native.objectOpen(name, elf));
  }

  public String name() {
    return name;
  }

  /** Every program in the object, in ELF order. */
  public List<BpfProgram> programs() {
    return programs;
  }

  /**
   * Every map in the object, including libbpf's internal ones for global data ({@code .rodata},
   * {@code .bss}, {@code .data}; see {@link BpfMap#isInternal()}).
   */
  public List<BpfMap> maps() {
    return maps;
  }

  /**
   * The program with this (function) name.
   *
   * @throws IllegalArgumentException when there is none; the message lists those there are
   */
  public BpfProgram program(String name) {
    return findProgram(name)
        .orElseThrow(
            () ->
                new IllegalArgumentException(
                    "BPF object '"
                        + this.name
                        + "' has no program '"
                        + name
                        + "'; it has "
                        + programs.stream().map(BpfProgram::name).collect(Collectors.toList())));
  }

  public Optional<BpfProgram> findProgram(String name) {
    requireNonNull(name, "name");
    return programs.stream().filter(p -> p.name().equals(name)).findFirst();
  }

  /**
   * The map with this name.
   *
   * @throws IllegalArgumentException when there is none; the message lists those there are
   */
  public BpfMap map(String name) {
    return findMap(name)
        .orElseThrow(
            () ->
                new IllegalArgumentException(
                    "BPF object '"
                        + this.name
                        + "' has no map '"
                        + name
                        + "'; it has "
                        + maps.stream().map(BpfMap::name).collect(Collectors.toList())));
  }

  public Optional<BpfMap> findMap(String name) {
    requireNonNull(name, "name");
    return maps.stream().filter(m -> m.name().equals(name)).findFirst();
  }

  /**
   * The object's BTF: the types its programs were compiled with, where event structs are described.
   * Owned by this object: valid until it is closed, and closing it is a no-op.
   *
   * @throws IllegalStateException when the object carries no BTF (compiled without {@code -g})
   */
  public synchronized Btf btf() {
    long h = liveHandle();
    if (btf == null) {
      long b = Native.objectBtf(h);
      if (b == 0) {
        throw new IllegalStateException(
            "BPF object '" + name + "' has no BTF: compile it with clang -g");
      }
      btf = Btf.ofObject(this, b);
    }
    return btf;
  }

  /** Whether the object has a {@code const volatile} global of this name (in {@code .rodata}). */
  public synchronized boolean hasConstant(String name) {
    requireNonNull(name, "name");
    return Native.objectConstantSize(liveHandle(), name) >= 0;
  }

  /**
   * The size in bytes of a {@code const volatile} global.
   *
   * @throws IllegalArgumentException when there is no such global
   */
  public synchronized int constantSize(String name) {
    requireNonNull(name, "name");
    int size = Native.objectConstantSize(liveHandle(), name);
    if (size < 0) {
      throw new IllegalArgumentException(
          "BPF object '" + this.name + "' has no const volatile global '" + name + "'");
    }
    return size;
  }

  /**
   * Sets a {@code const volatile} global before load; the verifier then treats it as a constant
   * (dead branches are removed), which is why gadget parameters are such globals. The value is
   * written little-endian in the global's own size (1, 2, 4 or 8 bytes; a {@code bool} is 1).
   *
   * @throws IllegalArgumentException when there is no such global, its size is not 1/2/4/8, or the
   *     value does not fit that size (as a signed or an unsigned number)
   * @throws IllegalStateException after load
   */
  public synchronized void setConstant(String name, long value) {
    int size = constantSize(name);
    if (size != 1 && size != 2 && size != 4 && size != 8) {
      throw new IllegalArgumentException(
          "'" + name + "' is " + size + " bytes: set it with setConstant(String, byte[])");
    }
    if (size < 8) {
      long min = -(1L << (size * 8 - 1));
      long maxUnsigned = (1L << (size * 8)) - 1;
      if (value < min || value > maxUnsigned) {
        throw new IllegalArgumentException(
            "value " + value + " does not fit '" + name + "' (" + size + " bytes)");
      }
    }
    byte[] bytes = new byte[size];
    for (int i = 0; i < size; i++) {
      bytes[i] = (byte) (value >>> (8 * i));
    }
    setConstant(name, bytes);
  }

  /** Sets a {@code const volatile bool} (or any integer global) to 1 or 0. */
  public void setConstant(String name, boolean value) {
    setConstant(name, value ? 1L : 0L);
  }

  /**
   * Sets a {@code const volatile char name[N]} to text: its UTF-8 bytes, a terminating NUL, zeros
   * up to the global's size.
   *
   * @throws IllegalArgumentException when there is no such global or the text with its NUL does
   *     not fit
   * @throws IllegalStateException after load
   */
  public synchronized void setConstant(String name, String text) {
    requireNonNull(text, "text");
    int size = constantSize(name);
    byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
    if (utf8.length + 1 > size) {
      throw new IllegalArgumentException(
          "'"
              + name
              + "' holds "
              + (size - 1)
              + " bytes of text and a NUL; the value is "
              + utf8.length
              + " bytes");
    }
    setConstant(name, Arrays.copyOf(utf8, size));
  }

  /**
   * Sets a {@code const volatile} global of any type (a struct, an array) to exactly these bytes.
   *
   * @throws IllegalArgumentException when there is no such global or the length differs from its
   *     size
   * @throws IllegalStateException after load
   */
  public synchronized void setConstant(String name, byte[] value) {
    requireNonNull(name, "name");
    requireNonNull(value, "value");
    requireOpened("set constant '" + name + "'");
    Native.objectSetConstant(liveHandle(), name, value);
  }

  /**
   * Loads the object into the kernel: creates its maps, relocates (CO-RE) and verifies its
   * programs.
   *
   * @throws BpfLoadException when that fails; it carries the verifier's log when a program was
   *     rejected
   * @throws IllegalStateException when already loaded, or after a failed load
   */
  public synchronized void load() {
    requireOpened("load");
    try {
      Native.objectLoad(liveHandle());
      state = State.LOADED;
    } catch (RuntimeException e) {
      state = State.LOAD_FAILED;
      throw e;
    }
  }

  public synchronized boolean isLoaded() {
    return state == State.LOADED;
  }

  public synchronized boolean isClosed() {
    return state == State.CLOSED;
  }

  /** Detaches its links, closes its ring buffer readers, frees the object. Idempotent. */
  @Override
  public void close() {
    List<RingBufferReader> toClose;
    synchronized (this) {
      if (state == State.CLOSED) {
        return;
      }
      state = State.CLOSED;
      for (BpfLink link : new ArrayList<>(links)) {
        link.closeLocked();
      }
      links.clear();
      toClose = new ArrayList<>(readers);
      readers.clear();
    }
    // Outside our lock: a reader's close waits for its poll to return, which takes no lock here.
    for (RingBufferReader r : toClose) {
      r.close();
    }
    synchronized (this) {
      cleanable.clean();
    }
  }

  @Override
  public String toString() {
    return "BpfObject[" + name + ", " + programs.size() + " programs, " + maps.size() + " maps]";
  }

  // ---- for BpfProgram, BpfMap, BpfLink, RingBufferReader, Btf (callers hold this lock) ----

  long liveHandle() {
    long h = handle.get();
    if (h == 0 || state == State.CLOSED) {
      throw new IllegalStateException("BPF object '" + name + "' is closed");
    }
    return h;
  }

  void requireOpened(String action) {
    liveHandle();
    if (state != State.OPENED) {
      throw new IllegalStateException(
          "cannot "
              + action
              + " of BPF object '"
              + name
              + "': "
              + (state == State.LOADED ? "already loaded" : "its load failed"));
    }
  }

  void requireLoaded(String action) {
    liveHandle();
    if (state != State.LOADED) {
      throw new IllegalStateException(
          "cannot " + action + ": BPF object '" + name + "' is not loaded");
    }
  }

  <L extends BpfLink> L register(L link) {
    links.add(link);
    return link;
  }

  void unregister(BpfLink link) {
    links.remove(link);
  }

  /** Called with the lock held; false if the object is closed (the reader is closed then). */
  boolean register(RingBufferReader reader) {
    if (state == State.CLOSED) {
      return false;
    }
    readers.add(reader);
    return true;
  }

  synchronized void unregister(RingBufferReader reader) {
    readers.remove(reader);
  }
}
