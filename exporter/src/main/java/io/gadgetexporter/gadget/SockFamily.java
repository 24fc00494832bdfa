package io.gadgetexporter.gadget;

/** Socket address family names ({@code AF_*} of {@code include/linux/socket.h}). */
public final class SockFamily {
  private SockFamily() {}

  /** The name of a family, e.g. {@code AF_INET6} for 10; {@code family N} when unknown. */
  public static String name(long family) {
    return switch ((int) family) {
      case 0 -> "AF_UNSPEC";
      case 1 -> "AF_UNIX";
      case 2 -> "AF_INET";
      case 10 -> "AF_INET6";
      case 16 -> "AF_NETLINK";
      case 17 -> "AF_PACKET";
      case 40 -> "AF_VSOCK";
      case 44 -> "AF_XDP";
      default -> "family " + family;
    };
  }
}
