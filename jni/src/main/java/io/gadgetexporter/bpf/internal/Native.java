package io.gadgetexporter.bpf.internal;

import java.nio.ByteBuffer;

/**
 * Every native method of the binding, in one place.
 *
 * <p>The C side ({@code jni/src/main/c}) registers these from {@code JNI_OnLoad} with a {@code
 * JNINativeMethod} table per subsystem, so a name or signature that changes on one side only fails
 * {@code System.load} at once instead of at first call. Not API: the public classes of {@code
 * io.gadgetexporter.bpf} and {@code io.gadgetexporter.linux} wrap these with state checks,
 * lifetimes and Java types.
 *
 * <p>Conventions: handles are native pointers as {@code long}; setup calls throw {@code
 * BpfException}/{@code BpfLoadException}/{@code IllegalArgumentException}; hot calls (the ring
 * buffer's drain and poll) return {@code >= 0} or {@code -errno} and never throw.
 *
 * <p>Callers must have loaded the library first ({@code NativeLibrary.load()}).
 */
public final class Native {
  private Native() {}

  // library.c
  public static native String libbpfVersion();

  public static native int possibleCpus();

  public static native int pageSize();

  public static native String errnoName(int errno);

  public static native String errnoText(int errno);

  public static native long boottimeNanos();

  public static native long realtimeNanos();

  public static native long monotonicNanos();

  // object.c
  public static native long objectOpen(String name, byte[] elf);

  public static native void objectClose(long object);

  public static native String objectName(long object);

  public static native void objectLoad(long object);

  public static native long[] objectPrograms(long object);

  public static native long[] objectMaps(long object);

  /** The object's BTF (owned by the object), or 0. */
  public static native long objectBtf(long object);

  /** Size in bytes of a {@code const volatile} global, or -1 when there is none by that name. */
  public static native int objectConstantSize(long object, String name);

  public static native void objectSetConstant(long object, String name, byte[] value);

  // program.c
  public static native String programName(long program);

  public static native String programSection(long program);

  public static native int programType(long program);

  public static native String programTypeName(int type);

  public static native int programFd(long program);

  public static native boolean programAutoload(long program);

  public static native void programSetAutoload(long program, boolean autoload);

  public static native long programAttach(long program);

  public static native long programAttachTracepoint(long program, String category, String name);

  public static native long programAttachRawTracepoint(long program, String name);

  /** {@code function} may be null: {@code offset} is then a file offset. */
  public static native long programAttachUprobe(
      long program, boolean retprobe, int pid, String path, long offset, String function);

  public static native long programAttachIterator(long program);

  public static native long programAttachPerfEvent(long program, int cpu, long frequencyHz);

  public static native long programAttachSocketFilter(long program, int socketFd);

  /** {run_cnt, run_time_ns, recursion_misses}. */
  public static native long[] programStats(int programFd);

  /** 0 or -errno. */
  public static native int linkClose(long link);

  public static native int linkFd(long link);

  public static native byte[] iteratorRead(long link);

  public static native byte[] iteratorReadInNetns(long link, int pid, long netnsId);

  // map.c
  public static native String mapName(long map);

  public static native int mapType(long map);

  public static native String mapTypeName(int type);

  public static native int mapKeySize(long map);

  public static native int mapValueSize(long map);

  public static native int mapMaxEntries(long map);

  public static native int mapFd(long map);

  public static native boolean mapIsInternal(long map);

  public static native void mapResize(long map, int maxEntries);

  /** The value, or null when the key is absent. */
  public static native byte[] mapLookup(int fd, byte[] key, int valueLength);

  public static native void mapUpdate(int fd, byte[] key, byte[] value, long flags);

  /** true if deleted, false if absent. */
  public static native boolean mapDelete(int fd, byte[] key);

  /** The key after {@code key} (the first for null), or null after the last. */
  public static native byte[] mapNextKey(int fd, byte[] key, int keySize);

  /**
   * Count of elements taken into {@code keys}/{@code values}, or -errno when the map type has no
   * batch operation (the caller then goes key by key). {@code end[0]} becomes 1 when the walk
   * reached the map's end, 0 when it stopped for want of room.
   */
  public static native int mapLookupAndDeleteBatch(
      int fd, int keySize, int valueLength, int max, byte[] keys, byte[] values, int[] end);

  // ringbuf.c
  public static native long ringOpen(int mapFd, ByteBuffer buffer);

  public static native void ringClose(long ring);

  /** Records copied, or -errno. */
  public static native int ringDrain(long ring);

  /** Records copied after waiting, or -errno. */
  public static native int ringPoll(long ring, int timeoutMs);

  /** 0 or -errno. */
  public static native int ringWakeup(long ring);

  public static native long ringPending(long ring);

  public static native long ringOversized(long ring);

  // btf.c
  /** {int[] numbers, String[] names} (layout in btf.c), or null when there is no such struct. */
  public static native Object[] btfStruct(long btf, String name);

  /** {long[] values, String[] names} of an enum, or null when there is no such enum. */
  public static native Object[] btfEnum(long btf, String name);

  public static native long btfLoadVmlinux();

  public static native void btfFree(long btf);

  // probe.c
  public static native boolean probeAttach(int kindOrdinal, String[] reason);

  public static native boolean probeRingBuffer(String[] reason);

  // stats.c
  public static native int statsEnable();

  /** 0 or -errno. */
  public static native int closeFd(int fd);

  // elf.c
  public static native long elfSymbolOffset(String path, String function);

  // socket.c
  public static native int packetSocketOpen(String interfaceName);

  /** A packet socket created inside the network namespace {@code path}; its inode in out[0]. */
  public static native int packetSocketOpenInNamespace(String path, long[] inodeOut);

  public static native void packetSocketListen(int fd);

  // fanotify.c (io.gadgetexporter.linux.Fanotify); setup calls throw SystemCallException
  /** Binds {@code buffer}, where poll/read leave {s32 pid, s32 fd} per event. */
  public static native long fanotifyOpen(ByteBuffer buffer);

  /** Closes the fanotify fd (the kernel allows every exec still waiting) and the eventfd. */
  public static native void fanotifyClose(long fanotify);

  /** {@code path}: the file name's bytes, without a terminating NUL. */
  public static native void fanotifyMarkExec(long fanotify, byte[] path);

  /** Events copied after waiting (0 on timeout, wake-up or EINTR), or -errno. */
  public static native int fanotifyPoll(long fanotify, int timeoutMs);

  /** Events copied without waiting, or -errno. */
  public static native int fanotifyRead(long fanotify);

  /** Writes the answer for {@code fd}, then closes {@code fd}. 0 or -errno of the write. */
  public static native int fanotifyRespond(long fanotify, int fd, boolean allow);

  /** 0 or -errno. */
  public static native int fanotifyWakeup(long fanotify);

  /** Events that could not be answered: queue overflows and events without an fd. */
  public static native long fanotifyOverflows(long fanotify);
}
