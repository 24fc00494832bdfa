package io.gadgetexporter.gadget;

/** TCP state names ({@code include/net/tcp_states.h}; the same numbers on every architecture). */
public final class TcpState {
  private static final String[] NAMES = {
    "", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT", "CLOSE",
    "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING", "NEW_SYN_RECV", "BOUND_INACTIVE"
  };

  private TcpState() {}

  /** The name of a state, e.g. {@code ESTABLISHED} for 1; empty for 0 (no state). */
  public static String name(long state) {
    return state >= 0 && state < NAMES.length ? NAMES[(int) state] : "state " + state;
  }
}
