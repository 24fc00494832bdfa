package io.gadgetexporter.gadget.dns;

/** Names of DNS record types and response codes, as the IANA DNS parameters registry gives them. */
public final class DnsCodes {
  private DnsCodes() {}

  /** {@code A} for 1, ...; {@code TYPE<n>} (RFC 3597) for a type without a name here. */
  public static String typeName(int type) {
    return switch (type) {
      case 1 -> "A";
      case 2 -> "NS";
      case 5 -> "CNAME";
      case 6 -> "SOA";
      case 12 -> "PTR";
      case 13 -> "HINFO";
      case 15 -> "MX";
      case 16 -> "TXT";
      case 28 -> "AAAA";
      case 33 -> "SRV";
      case 35 -> "NAPTR";
      case 39 -> "DNAME";
      case 41 -> "OPT";
      case 43 -> "DS";
      case 46 -> "RRSIG";
      case 47 -> "NSEC";
      case 48 -> "DNSKEY";
      case 50 -> "NSEC3";
      case 52 -> "TLSA";
      case 64 -> "SVCB";
      case 65 -> "HTTPS";
      case 99 -> "SPF";
      case 251 -> "IXFR";
      case 252 -> "AXFR";
      case 255 -> "ANY";
      case 257 -> "CAA";
      default -> "TYPE" + type;
    };
  }

  /** {@code NOERROR} for 0, ...; {@code RCODE<n>} for a code without a name here. */
  public static String rcodeName(int rcode) {
    return switch (rcode) {
      case 0 -> "NOERROR";
      case 1 -> "FORMERR";
      case 2 -> "SERVFAIL";
      case 3 -> "NXDOMAIN";
      case 4 -> "NOTIMP";
      case 5 -> "REFUSED";
      case 6 -> "YXDOMAIN";
      case 7 -> "YXRRSET";
      case 8 -> "NXRRSET";
      case 9 -> "NOTAUTH";
      case 10 -> "NOTZONE";
      default -> "RCODE" + rcode;
    };
  }
}
