package io.gadgetexporter.gadget;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Kernel addresses to names: a fixture with the awkward cases, then the running kernel. */
class KernelSymbolsTest {
  // Modules after the kernel and out of address order, data symbols between functions, two names
  // at one address, a weak function, as /proc/kallsyms lists them.
  private static final String FIXTURE =
      """
      ffffffff81000000 T _stext
      ffffffff81000000 T startup_64
      ffffffff81000100 t early_helper
      ffffffff81000180 D some_data
      ffffffff81000200 T vfs_read
      ffffffff81000300 W weak_fn
      ffffffff81000400 r rodata_thing
      ffffffffc0002000 t loop_queue_rq\t[loop]
      ffffffffc0001000 t mod_init_thing\t[dm_mod]
      ffffffffc0001800 T dm_submit\t[dm_mod]
      """;

  private static KernelSymbols fixture() {
    return KernelSymbols.parse(FIXTURE.getBytes(StandardCharsets.US_ASCII));
  }

  @Test
  void findsTheFunctionHoldingAnAddress() {
    KernelSymbols s = fixture();
    assertThat(s.size()).isEqualTo(8); // code only: D and r symbols are left out
    assertThat(s.usable()).isTrue();
    assertThat(s.lookup(0xffffffff81000200L).withOffset()).isEqualTo("vfs_read+0x0");
    assertThat(s.lookup(0xffffffff8100021aL).withOffset()).isEqualTo("vfs_read+0x1a");
    // Past a data symbol's address the function before it still holds the address.
    assertThat(s.lookup(0xffffffff81000190L).name()).isEqualTo("early_helper");
    assertThat(s.lookup(0xffffffff81000301L).name()).isEqualTo("weak_fn");
    // Aliases: the first name listed.
    assertThat(s.lookup(0xffffffff81000010L).name()).isEqualTo("_stext");
  }

  @Test
  void moduleSymbolsAreSortedInAndNamedWithTheirModule() {
    KernelSymbols s = fixture();
    KernelSymbols.Symbol dm = s.lookup(0xffffffffc0001810L);
    assertThat(dm.name()).isEqualTo("dm_submit");
    assertThat(dm.module()).isEqualTo("dm_mod");
    assertThat(dm.withOffset()).isEqualTo("dm_submit+0x10 [dm_mod]");
    assertThat(s.lookup(0xffffffffc0002004L).withOffset()).isEqualTo("loop_queue_rq+0x4 [loop]");
    assertThat(s.lookup(0xffffffffc0001004L).name()).isEqualTo("mod_init_thing");
  }

  @Test
  void addressesOutsideEverySymbolResolveToNothing() {
    KernelSymbols s = fixture();
    assertThat(s.lookup(0xffffffff80000000L)).as("below the first symbol").isNull();
    assertThat(s.lookup(0xffffffffc0f00000L)).as("far past the last symbol").isNull();
    assertThat(s.lookup(0x7f0000001000L)).as("a user address").isNull();
  }

  @Test
  void zeroedAddressesOfKptrRestrictResolveNothing() {
    KernelSymbols s =
        KernelSymbols.parse(
            "0000000000000000 T _stext\n0000000000000000 T vfs_read\n"
                .getBytes(StandardCharsets.US_ASCII));
    assertThat(s.usable()).isFalse();
    assertThat(s.lookup(0xffffffff81000200L)).isNull();
    assertThat(KernelSymbols.parse(new byte[0]).usable()).isFalse();
  }

  @Test
  void theRunningKernelsVfsReadResolves() throws Exception {
    String line =
        Files.readAllLines(Path.of("/proc/kallsyms")).stream()
            .filter(l -> l.matches("\\p{XDigit}+ [tT] vfs_read"))
            .findFirst()
            .orElseThrow();
    long address = Long.parseUnsignedLong(line.substring(0, line.indexOf(' ')), 16);
    assertThat(address).as("kallsyms shows addresses to root").isNotZero();
    KernelSymbols s = KernelSymbols.system();
    assertThat(s.usable()).isTrue();
    assertThat(s.size()).isGreaterThan(10_000);
    assertThat(s.lookup(address + 0x10).withOffset()).isEqualTo("vfs_read+0x10");
    assertThat(KernelSymbols.system()).as("shared, not read again").isSameAs(s);
  }
}
