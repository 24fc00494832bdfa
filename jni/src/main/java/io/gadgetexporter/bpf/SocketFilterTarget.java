package io.gadgetexporter.bpf;

import static java.util.Objects.requireNonNull;

import io.gadgetexporter.bpf.internal.Cleaners;
import io.gadgetexporter.bpf.internal.Native;
import java.lang.ref.Cleaner;

/**
 * A socket for a socket-filter program to run on. {@link #packet(String)} opens a raw packet socket
 * ({@code AF_PACKET}, all protocols) bound to one network interface: its filter sees every frame
 * crossing the interface in both directions (on {@code lo}, each packet once as outgoing and once
 * as incoming; {@code skb->pkt_type} tells them apart). A filter that returns 0 keeps frames out of
 * the socket's queue, so a program that only counts or submits to a ring buffer costs no copies and
 * nobody needs to read the socket. Needs CAP_NET_RAW.
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
  private final Handle handle;
  private final Cleaner.Cleanable cleanable;

  private SocketFilterTarget(String interfaceName, int fd) {
    this.interfaceName = interfaceName;
    this.handle = new Handle(fd);
    this.cleanable = Cleaners.CLEANER.register(this, handle);
  }

  /**
   * A packet socket on {@code interfaceName} (e.g. {@code "lo"}, {@code "eth0"}).
   *
   * @throws BpfException when there is no such interface (ENODEV) or no permission (EPERM)
   */
  public static SocketFilterTarget packet(String interfaceName) {
    requireNonNull(interfaceName, "interfaceName");
    NativeLibrary.load();
    return new SocketFilterTarget(interfaceName, Native.packetSocketOpen(interfaceName));
  }

  public String interfaceName() {
    return interfaceName;
  }

  /** The socket's fd, for {@link BpfProgram#attachSocketFilter(int)}. */
  public int fd() {
    long h = handle.get();
    if (h == 0) {
      throw new IllegalStateException("socket on " + interfaceName + " is closed");
    }
    return (int) (h - 1);
  }

  /** Idempotent. */
  @Override
  public void close() {
    cleanable.clean();
  }
}
