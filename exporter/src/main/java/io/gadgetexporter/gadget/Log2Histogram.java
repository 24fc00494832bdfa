package io.gadgetexporter.gadget;

/**
 * Log2 histograms as gadgets keep them ({@code gadget_histogram_slot slots[N]}, see {@code
 * bpf/include/gadget/types.h}): slot 0 counts the values 0 and 1, slot {@code i > 0} the values in
 * {@code [2^i, 2^(i+1))}, the last slot also everything larger.
 */
public final class Log2Histogram {
  private Log2Histogram() {}

  /** The smallest value slot {@code i} counts. */
  public static long lowerBound(int slot) {
    return slot == 0 ? 0 : 1L << slot;
  }

  /**
   * The value that stands for slot {@code i}'s counts when they are put into another histogram:
   * the middle of the slot ({@code 1.5 * 2^i}; 1 for slot 0). It lies strictly inside the slot, so
   * with bucket bounds at powers of two (in the field's unit) every count lands in the bucket that
   * covers its slot.
   */
  public static double representative(int slot) {
    return slot == 0 ? 1 : 1.5 * (1L << slot);
  }

  /**
   * The non-empty slots, e.g. {@code 16-31us:50 32-63us:14}, the last slot as {@code 1024+us:3};
   * empty when every slot is 0.
   *
   * @param unit the values' unit (gadget.yaml), appended to each range; null for none
   */
  public static String text(long[] counts, String unit) {
    String u = unit == null ? "" : unit;
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < counts.length; i++) {
      if (counts[i] == 0) {
        continue;
      }
      if (out.length() > 0) {
        out.append(' ');
      }
      out.append(lowerBound(i));
      if (i == counts.length - 1) {
        out.append('+');
      } else {
        out.append('-').append((1L << (i + 1)) - 1);
      }
      out.append(u).append(':').append(counts[i]);
    }
    return out.toString();
  }
}
