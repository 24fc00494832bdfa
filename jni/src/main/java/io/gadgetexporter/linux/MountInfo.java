package io.gadgetexporter.linux;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The mounts of {@code /proc/PID/mountinfo} (proc(5)): one line a mount, {@code id parent
 * major:minor root mount-point options [optional fields...] - fstype source super-options}. Paths
 * are unescaped ({@code \040} space, {@code \011} tab, {@code \012} newline, {@code \134}
 * backslash). A line without that shape is skipped.
 */
public final class MountInfo {
  /**
   * @param root the mount's root within its file system; for cgroup mounts relative to the reader's
   *     cgroup namespace, so {@code /../..} for the host's hierarchy seen from a pod
   */
  public record Mount(String root, Path mountPoint, String fsType) {
    /** Whether this is a mount of a {@code fsType} file system at {@code at}. */
    public boolean is(String type, Path at) {
      return fsType.equals(type) && mountPoint.equals(at);
    }
  }

  private MountInfo() {}

  /** The mounts of the file; none when it cannot be read. */
  public static List<Mount> read(Path mountinfo) {
    try {
      return parse(Files.readString(mountinfo));
    } catch (IOException | RuntimeException e) {
      return List.of();
    }
  }

  public static List<Mount> parse(String content) {
    List<Mount> mounts = new ArrayList<>();
    for (String line : content.split("\n")) {
      int dash = line.indexOf(" - ");
      if (dash < 0) {
        continue;
      }
      String[] before = line.substring(0, dash).split(" ");
      String[] after = line.substring(dash + 3).split(" ");
      if (before.length < 6 || after.length < 1 || after[0].isEmpty()) {
        continue;
      }
      mounts.add(new Mount(unescape(before[3]), Path.of(unescape(before[4])), after[0]));
    }
    return mounts;
  }

  /** The kernel writes space, tab, newline and backslash in a path as a backslash and 3 octal digits. */
  static String unescape(String field) {
    if (field.indexOf('\\') < 0) {
      return field;
    }
    StringBuilder out = new StringBuilder(field.length());
    for (int i = 0; i < field.length(); i++) {
      char c = field.charAt(i);
      if (c == '\\' && isOctal(field, i + 1)) {
        out.append((char) Integer.parseInt(field.substring(i + 1, i + 4), 8));
        i += 3;
      } else {
        out.append(c);
      }
    }
    return out.toString();
  }

  private static boolean isOctal(String s, int from) {
    if (from + 3 > s.length()) {
      return false;
    }
    for (int i = from; i < from + 3; i++) {
      if (s.charAt(i) < '0' || s.charAt(i) > '7') {
        return false;
      }
    }
    return true;
  }
}
