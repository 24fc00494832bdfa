package io.gadgetexporter.bpf;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs one namespace-entering call of this library in a child JVM that lacks CAP_SYS_ADMIN
 * ({@code setpriv} drops it from the bounding and inheritable sets, so root keeps every other
 * capability): entering another network namespace needs it, the caller's own must not. The
 * child's {@link #main} takes the call from its arguments and prints one line, {@code ok
 * <detail>} or {@code error <ERRNO> <message>}.
 */
final class WithoutSysAdmin {
  private WithoutSysAdmin() {}

  /**
   * {@code socket <netns file>}: {@link SocketFilterTarget#packetInNamespace}, ok with the
   * namespace's inode; {@code iterate <pid> <netns inode>}: a run of the test object iter_tcp's
   * iterator in that process's namespace ({@link BpfIterator#readInNetworkNamespace}).
   *
   * @return the child's line
   */
  static String run(String... call) throws Exception {
    List<String> command = new ArrayList<>();
    command.addAll(List.of("setpriv", "--bounding-set", "-sys_admin", "--inh-caps", "-sys_admin"));
    command.add(
        ProcessHandle.current()
            .info()
            .command()
            .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
    command.addAll(
        List.of(
            "-Xmx32m",
            "-XX:TieredStopAtLevel=1",
            "-cp",
            location(SocketFilterTarget.class) + ":" + location(WithoutSysAdmin.class),
            WithoutSysAdmin.class.getName()));
    command.addAll(List.of(call));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    if (p.waitFor() != 0) { // the child runs without AssertJ on its class path: no assertions here
      throw new IllegalStateException(command + " exited with " + p.exitValue() + ": " + out);
    }
    return out;
  }

  public static void main(String[] args) throws Exception {
    try {
      if (args[0].equals("socket")) {
        try (SocketFilterTarget t = SocketFilterTarget.packetInNamespace(Path.of(args[1]))) {
          System.out.println("ok " + t.netnsId());
        }
      } else {
        byte[] elf;
        try (InputStream in = WithoutSysAdmin.class.getResourceAsStream("/bpf/iter_tcp.bpf.o")) {
          elf = in.readAllBytes();
        }
        try (BpfObject obj = BpfObject.open("iter_tcp", elf)) {
          obj.load();
          BpfIterator it = obj.program("dump_tcp").attachIterator();
          it.readInNetworkNamespace(Integer.parseInt(args[1]), Long.parseLong(args[2]));
          System.out.println("ok");
        }
      }
    } catch (BpfException e) {
      System.out.println("error " + e.errnoName() + " " + e.getMessage());
    }
  }

  private static String location(Class<?> c) throws Exception {
    return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
  }
}
