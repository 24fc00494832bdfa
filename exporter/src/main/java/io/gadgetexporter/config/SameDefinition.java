package io.gadgetexporter.config;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.RecordComponent;
import java.util.Collection;
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Whether two configuration values say the same thing, wherever they were written: a reload that
 * only moves an instance down the file, or adds a comment above it, must not restart it.
 *
 * <p>Walks records component by component, skipping where a value was written ({@link
 * ConfigLocation} components and key paths); compares compiled patterns by their source.
 */
public final class SameDefinition {
  private SameDefinition() {}

  public static boolean of(Object a, Object b) {
    if (a == b) {
      return true;
    }
    if (a == null || b == null || a.getClass() != b.getClass()) {
      return false;
    }
    if (a instanceof Pattern pa) {
      Pattern pb = (Pattern) b;
      return pa.pattern().equals(pb.pattern()) && pa.flags() == pb.flags();
    }
    if (a instanceof Optional<?> oa) {
      Optional<?> ob = (Optional<?>) b;
      return oa.isPresent() == ob.isPresent() && (oa.isEmpty() || of(oa.get(), ob.get()));
    }
    if (a instanceof Collection<?> ca) {
      return sameInOrder(ca, (Collection<?>) b);
    }
    if (a instanceof Map<?, ?> ma) {
      Map<?, ?> mb = (Map<?, ?>) b;
      if (ma.size() != mb.size()) {
        return false;
      }
      for (Map.Entry<?, ?> e : ma.entrySet()) {
        if (!mb.containsKey(e.getKey()) || !of(e.getValue(), mb.get(e.getKey()))) {
          return false;
        }
      }
      return true;
    }
    if (a.getClass().isRecord()) {
      return sameRecord(a, b);
    }
    return a.equals(b);
  }

  private static boolean sameInOrder(Collection<?> a, Collection<?> b) {
    if (a.size() != b.size()) {
      return false;
    }
    Iterator<?> ib = b.iterator();
    for (Object x : a) {
      if (!of(x, ib.next())) {
        return false;
      }
    }
    return true;
  }

  private static boolean sameRecord(Object a, Object b) {
    for (RecordComponent c : a.getClass().getRecordComponents()) {
      if (c.getType() == ConfigLocation.class || c.getName().equals("keyPath")) {
        continue;
      }
      try {
        if (!of(c.getAccessor().invoke(a), c.getAccessor().invoke(b))) {
          return false;
        }
      } catch (IllegalAccessException | InvocationTargetException e) {
        throw new IllegalStateException("cannot read " + c + " of " + a.getClass(), e);
      }
    }
    return true;
  }
}
