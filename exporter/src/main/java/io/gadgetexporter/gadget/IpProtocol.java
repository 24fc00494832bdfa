package io.gadgetexporter.gadget;

/** IP protocol names ({@code IPPROTO_*} of {@code include/uapi/linux/in.h}). */
public final class IpProtocol {
  private IpProtocol() {}

  /** The name of a protocol number, e.g. {@code TCP} for 6; {@code protocol N} when unknown. */
  public static String name(long protocol) {
    return switch ((int) protocol) {
      case 0 -> "IP";
      case 1 -> "ICMP";
      case 2 -> "IGMP";
      case 6 -> "TCP";
      case 17 -> "UDP";
      case 41 -> "IPV6";
      case 47 -> "GRE";
      case 50 -> "ESP";
      case 58 -> "ICMPV6";
      case 132 -> "SCTP";
      case 136 -> "UDPLITE";
      case 255 -> "RAW";
      case 262 -> "MPTCP";
      default -> "protocol " + protocol;
    };
  }
}
