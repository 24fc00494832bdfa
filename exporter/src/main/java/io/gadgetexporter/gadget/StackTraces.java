package io.gadgetexporter.gadget;

import io.gadgetexporter.bpf.BpfMap;
import io.gadgetexporter.bpf.BpfObject;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The stack maps of a gadget that records stack ids ({@code bpf/include/gadget/stacks.h}), and the
 * turning of those ids into frames for {@link FieldFormat#KERNEL_STACK} and {@link
 * FieldFormat#USER_STACK} fields.
 *
 * <p>The maps are double-buffered by epoch. Each interval the reader calls {@link #flip()} before
 * it reads the count map of the epoch that {@code flip} returns, hands the rows to the sinks (whose
 * views resolve ids here, through that epoch's stack map, each id read from the kernel once and
 * cached), then calls {@link #clear()}: that epoch's stack map is emptied, and it becomes current
 * again at the next flip. stacks.h explains why the ids stay valid throughout.
 *
 * <p>One thread (the instance's reader) uses an instance.
 */
public final class StackTraces {
  static final String EPOCH_MAP = "gadget_stack_epoch";
  static final String SYNC_MAP = "gadget_stack_sync";
  static final String STACKS_MAP_PREFIX = "gadget_stacks_";

  private static final int ENOENT = 2;
  private static final int ENOMEM = 12;
  private static final int EFAULT = 14;
  private static final int EEXIST = 17;

  private final BpfMap epochMap;
  private final BpfMap syncMap;
  private final BpfMap[] stacks;
  private final Supplier<KernelSymbols> symbolSource;
  private int current;
  private int reading = -1;
  private KernelSymbols symbols;
  private final Map<Long, long[]> cache = new HashMap<>();

  StackTraces(BpfObject object, Supplier<KernelSymbols> symbols) {
    this.epochMap = object.map(EPOCH_MAP);
    this.syncMap = object.map(SYNC_MAP);
    this.stacks = new BpfMap[] {object.map(STACKS_MAP_PREFIX + 0), object.map(STACKS_MAP_PREFIX + 1)};
    this.symbolSource = symbols;
  }

  /** Whether the object records stacks (includes stacks.h). */
  static boolean present(BpfObject object) {
    return object.maps().stream().anyMatch(m -> m.name().equals(EPOCH_MAP));
  }

  /**
   * Sends new samples to the other epoch and waits until no program still uses the old one; from
   * then on ids resolve through the old epoch's stack map.
   *
   * @return the old epoch, whose count map is now complete and no longer written
   */
  public int flip() {
    int old = current;
    current = 1 - current;
    epochMap.update(new byte[4], u32(current), BpfMap.ANY);
    // Rewriting a map-in-map slot returns only after synchronize_rcu(): every program that
    // could have read the old epoch has finished (stacks.h).
    syncMap.update(new byte[4], u32(epochMap.fd()), BpfMap.ANY);
    reading = old;
    cache.clear();
    symbols = symbolSource.get();
    return old;
  }

  /** Empties the stack map of the epoch just read; its ids mean nothing any more. */
  public void clear() {
    if (reading < 0) {
      return;
    }
    BpfMap map = stacks[reading];
    for (byte[] key : map.keys()) {
      map.delete(key);
    }
    cache.clear();
  }

  /**
   * The frames of a stack, outermost first: kernel frames as {@code function+0x1a} ({@code [module]}
   * added for a module's), user frames as {@code 0x7f...} addresses. Empty when there is no stack
   * (see {@link #folded}).
   */
  public List<String> frames(long id, boolean kernel) {
    long[] addresses = addresses(id);
    if (addresses == null) {
      String why = why(id);
      return why.isEmpty() ? List.of() : List.of(why);
    }
    List<String> frames = new ArrayList<>(addresses.length);
    for (int i = addresses.length - 1; i >= 0; i--) {
      frames.add(frame(addresses[i], i, kernel, true));
    }
    return Collections.unmodifiableList(frames);
  }

  /**
   * The stack in folded form, outermost frame first, separated by {@code ;}: kernel frames by
   * function name only (so samples at different offsets of one function fold together), user
   * frames as addresses. Empty for no stack ({@code -EFAULT}: a kernel thread's user stack, a
   * sample taken in user mode's kernel stack; {@code -ENOENT}: not collected); {@code [lost: stack
   * map full]} when the stack map had no room ({@code -EEXIST}, {@code -ENOMEM}: the sample is
   * counted as incomplete).
   */
  public String folded(long id, boolean kernel) {
    long[] addresses = addresses(id);
    if (addresses == null) {
      return why(id);
    }
    StringBuilder out = new StringBuilder(addresses.length * 16);
    for (int i = addresses.length - 1; i >= 0; i--) {
      if (out.length() > 0) {
        out.append(';');
      }
      out.append(frame(addresses[i], i, kernel, false));
    }
    return out.toString();
  }

  /** The addresses of stack {@code id}, innermost first; null when there is none. */
  private long[] addresses(long id) {
    if (id < 0 || reading < 0) {
      return null;
    }
    long[] cached = cache.get(id);
    if (cached != null) {
      return cached;
    }
    byte[] key = new byte[4];
    ByteBuffer.wrap(key).order(ByteOrder.nativeOrder()).putInt(0, (int) id);
    byte[] value = stacks[reading].lookup(key);
    long[] addresses;
    if (value == null) {
      addresses = new long[0];
    } else {
      ByteBuffer b = ByteBuffer.wrap(value).order(ByteOrder.nativeOrder());
      int n = 0;
      while (n * 8 + 8 <= value.length && b.getLong(n * 8) != 0) {
        n++; // the kernel zero-fills past the stack's depth
      }
      addresses = new long[n];
      for (int i = 0; i < n; i++) {
        addresses[i] = b.getLong(i * 8);
      }
    }
    cache.put(id, addresses);
    return addresses;
  }

  private static String why(long id) {
    if (id >= 0) {
      return "";
    }
    int errno = (int) -id;
    return switch (errno) {
      case EFAULT, ENOENT -> "";
      case EEXIST, ENOMEM -> "[lost: stack map full]";
      default -> "[" + Errno.name(errno) + "]";
    };
  }

  /**
   * One frame. Every address but the innermost is a return address, just past the call: the call
   * itself (address - 1) is what names the caller, which matters when the call is a function's
   * last instruction (a call to a noreturn function).
   */
  private String frame(long address, int depth, boolean kernel, boolean withOffset) {
    if (kernel && symbols != null) {
      KernelSymbols.Symbol s = symbols.lookup(depth == 0 ? address : address - 1);
      if (s != null) {
        if (!withOffset) {
          return s.name();
        }
        return depth == 0
            ? s.withOffset()
            : new KernelSymbols.Symbol(s.name(), s.offset() + 1, s.module()).withOffset();
      }
    }
    return "0x" + Long.toHexString(address);
  }

  private static byte[] u32(int v) {
    byte[] b = new byte[4];
    ByteBuffer.wrap(b).order(ByteOrder.nativeOrder()).putInt(0, v);
    return b;
  }
}
