package io.gadgetexporter.bpf;

import static java.util.Objects.requireNonNull;

import io.gadgetexporter.bpf.internal.Cleaners;
import io.gadgetexporter.bpf.internal.Native;
import java.lang.ref.Cleaner;
import java.nio.file.Path;

/**
 * A socket for a socket-filter program to run on: a raw packet socket ({@code AF_PACKET}, all
 * protocols), whose filter sees every frame crossing its interfaces in both directions (on {@code
 * lo}, each packet once as outgoing and once as incoming; {@code skb->pkt_type} tells them apart).
 * A filter that returns 0 keeps frames out of the socket's queue, so a program that only counts or
 * submits to a ring buffer costs no copies and nobody needs to read the socket. Needs CAP_NET_RAW.
 *
 * <p>{@link #packet(String)} watches one interface of the caller's network namespace; {@link
 * #packetInNamespace(Path)} every interface of another namespace.
 *
 * <p>Close the {@link BpfLink} of the filter before this socket.
 */
public final class SocketFilterTarget implements AutoCloseable {
  private static final class Handle extends Cleaners.NativeHandle {
    Handle(int fd) {
      super(fd + 1L); // fd 0 is valid; 0 means closed
    }

    @Override
    protected void free(long value) {
      Native.closeFd((int) (value - 1));
    }
  }

  private final String interfaceName;
  private final long netnsId;
  private final Handle handle;
  private final Cleaner.Cleanable cleanable;

  private SocketFilterTarget(String interfaceName, long netnsId, int fd) {
    this.interfaceName = interfaceName;
    this.netnsId = netnsId;
    this.handle = new Handle(fd);
    this.cleanable = Cleaners.CLEANER.register(this, handle);
  }

  /**
   * A packet socket on {@code interfaceName} (e.g. {@code "lo"}, {@code "eth0"}), receiving at
   * once.
   *
   * @throws BpfException when there is no such interface (ENODEV) or no permission (EPERM)
   */
  public static SocketFilterTarget packet(String interfaceName) {
    requireNonNull(interfaceName, "interfaceName");
    NativeLibrary.load();
    return new SocketFilterTarget(interfaceName, 0, Native.packetSocketOpen(interfaceName));
  }

  /**
   * A packet socket inside the network namespace that {@code netnsFile} names ({@code
   * /proc/<pid>/ns/net}, {@code /run/netns/<name>}), for every interface of it, including those
   * added later. In another namespace than the caller's, the socket is created by a short-lived
   * native thread that enters the namespace ({@code setns(2)}) and ends: no Java thread ever
   * changes namespace. In the caller's own, it is created on the spot, with no {@code setns}.
   *
   * <p>It receives nothing until {@link #listen()}: attach the filter first, so that no frame is
   * queued on the socket before the filter decides. Needs CAP_NET_RAW, and CAP_SYS_ADMIN for a
   * namespace other than the caller's (to enter it).
   *
   * @throws BpfException ENOENT when the file is gone (the process exited), EINVAL when it is not
   *     a network namespace, EPERM without the capabilities
   */
  public static SocketFilterTarget packetInNamespace(Path netnsFile) {
    requireNonNull(netnsFile, "netnsFile");
    NativeLibrary.load();
    long[] inode = new long[1];
    int fd = Native.packetSocketOpenInNamespace(netnsFile.toString(), inode);
    return new SocketFilterTarget("", inode[0], fd);
  }

  /** The interface the socket is bound to; empty for a whole namespace's socket. */
  public String interfaceName() {
    return interfaceName;
  }

  /**
   * The inode number of the namespace a {@link #packetInNamespace} socket lives in (as {@code
   * /proc/<pid>/ns/net} shows it, {@code net:[<inode>]}); 0 for a {@link #packet} socket.
   */
  public long netnsId() {
    return netnsId;
  }

  /**
   * Starts delivery to a {@link #packetInNamespace} socket: every protocol, every interface.
   *
   * @throws BpfException when the kernel refuses
   */
  public void listen() {
    Native.packetSocketListen(fd());
  }

  /** The socket's fd, for {@link BpfProgram#attachSocketFilter(int)}. */
  public int fd() {
    long h = handle.get();
    if (h == 0) {
      throw new IllegalStateException(
          "socket on " + (interfaceName.isEmpty() ? "netns " + netnsId : interfaceName)
              + " is closed");
    }
    return (int) (h - 1);
  }

  /** Idempotent. */
  @Override
  public void close() {
    cleanable.clean();
  }
}
