package io.gadgetexporter.bpf;

/** Run in a child JVM by NativeLibraryTest: loads the library as an application would. */
public final class NativeLibraryMain {
  private NativeLibraryMain() {}

  public static void main(String[] args) {
    try {
      NativeLibrary.load();
      System.out.println("loaded libbpf " + Bpf.libbpfVersion());
    } catch (UnsatisfiedLinkError e) {
      System.out.println(e.getMessage());
      System.exit(3);
    }
  }
}
