package io.gadgetexporter.bpf;

import static io.gadgetexporter.bpf.TestSupport.arrayU64;
import static io.gadgetexporter.bpf.TestSupport.pid;
import static io.gadgetexporter.bpf.TestSupport.writes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class BpfObjectTest {
  @BeforeAll
  static void root() {
    TestSupport.requireRoot();
  }

  @Test
  void listsProgramsAndMapsBeforeLoad() {
    try (BpfObject obj = TestSupport.open("ringbuf_events")) {
      assertThat(obj.name()).isEqualTo("ringbuf_events");
      assertThat(obj.programs()).extracting(BpfProgram::name).containsExactly("handle_write");
      BpfProgram p = obj.program("handle_write");
      assertThat(p.sectionName()).isEqualTo("tracepoint/syscalls/sys_enter_write");
      assertThat(p.type()).isEqualTo("tracepoint");
      assertThat(p.fd()).isEqualTo(-1);
      assertThat(obj.maps())
          .extracting(BpfMap::name)
          .contains(
              "events", "gadget_lost", "counters", "test_hash", "test_percpu_hash", "test_array");
      assertThat(obj.maps())
          .filteredOn(BpfMap::isInternal)
          .extracting(BpfMap::name)
          .anyMatch(n -> n.endsWith(".rodata"));
      assertThat(obj.findProgram("nope")).isEmpty();
      assertThat(obj.findMap("nope")).isEmpty();
      assertThat(obj.isLoaded()).isFalse();
    }
  }

  @Test
  void unknownNamesAreRejectedWithTheNamesThereAre() {
    try (BpfObject obj = TestSupport.open("ringbuf_events")) {
      assertThatThrownBy(() -> obj.program("nope"))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("handle_write");
      assertThatThrownBy(() -> obj.map("nope"))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("events");
    }
  }

  @Test
  void constantsHaveTheSizesTheirBtfSays() {
    try (BpfObject obj = TestSupport.open("ringbuf_events")) {
      assertThat(obj.hasConstant("target_tgid")).isTrue();
      assertThat(obj.hasConstant("nope")).isFalse();
      assertThat(obj.constantSize("target_tgid")).isEqualTo(4);
      assertThat(obj.constantSize("magic_count")).isEqualTo(8);
      assertThat(obj.constantSize("force_wakeup")).isEqualTo(1);
      assertThat(obj.constantSize("two_bytes")).isEqualTo(2);
      assertThat(obj.constantSize("label")).isEqualTo(6);
      assertThatThrownBy(() -> obj.constantSize("nope"))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("nope");
    }
  }

  @Test
  void setConstantChecksNameSizeAndRange() {
    try (BpfObject obj = TestSupport.open("ringbuf_events")) {
      assertThatThrownBy(() -> obj.setConstant("nope", 1))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("no const volatile global 'nope'");
      assertThatThrownBy(() -> obj.setConstant("two_bytes", 70_000))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("does not fit");
      obj.setConstant("two_bytes", 65_535);
      obj.setConstant("small_signed", -128);
      obj.setConstant("small_signed", 255);
      assertThatThrownBy(() -> obj.setConstant("small_signed", 256))
          .isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> obj.setConstant("label", 1))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("setConstant(String, byte[])");
      assertThatThrownBy(() -> obj.setConstant("label", new byte[3]))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("6 bytes");
      obj.setConstant("label", "x12345".getBytes(StandardCharsets.US_ASCII));
      obj.setConstant("label", "short"); // 5 bytes + NUL
      assertThatThrownBy(() -> obj.setConstant("label", "toolong"))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("holds 5 bytes of text");
    }
  }

  @Test
  void constantsReachTheProgramAndFreezeAtLoad() {
    try (BpfObject obj = TestSupport.open("ringbuf_events")) {
      obj.setConstant("target_tgid", pid());
      obj.setConstant("magic_count", 777);
      obj.setConstant("label", "Q-lab!".getBytes(StandardCharsets.US_ASCII));
      obj.load();
      assertThat(obj.isLoaded()).isTrue();
      assertThatThrownBy(() -> obj.setConstant("magic_count", 1))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("already loaded");
      assertThatThrownBy(obj::load).isInstanceOf(IllegalStateException.class);
      obj.program("handle_write").attach();
      writes(3, 777);
      writes(3, 778);
      assertThat(arrayU64(obj.map("counters"), 0)).isEqualTo(3);
      assertThat(arrayU64(obj.map("counters"), 2)).isEqualTo('Q');
    }
  }

  @Test
  void aRejectedProgramGivesTheVerifierLogAndItsName() {
    try (BpfObject obj = TestSupport.open("verifier_reject")) {
      BpfLoadException e =
          (BpfLoadException) org.assertj.core.api.Assertions.catchThrowable(obj::load);
      assertThat(e).isNotNull();
      assertThat(e.programName()).contains("bad_read");
      assertThat(e.errnoName()).isEqualTo("EACCES");
      assertThat(e.getMessage())
          .startsWith("load of program 'bad_read' failed: Permission denied (EACCES)\n");
      assertThat(e.verifierLog()).contains("invalid access to map value");
      assertThat(e.verifierLog().length()).isLessThanOrEqualTo(4096);
      assertThat(e.getMessage()).endsWith(e.verifierLog().stripTrailing());
      assertThatThrownBy(obj::load)
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("its load failed");
    }
  }

  @Test
  void aProgramTheKernelRefusesCanBeLeftOutWithAutoload() {
    // fentry is not allowed on this kernel (EPERM, see DESIGN.md §2).
    try (BpfObject obj = TestSupport.open("fentry")) {
      BpfLoadException e =
          (BpfLoadException) org.assertj.core.api.Assertions.catchThrowable(obj::load);
      assertThat(e).isNotNull();
      assertThat(e.programName()).contains("on_openat2");
      assertThat(e.errnoName()).isEqualTo("EPERM");
      assertThat(e.getMessage())
          .startsWith("load of program 'on_openat2' failed: Operation not permitted (EPERM)");
    }
    try (BpfObject obj = TestSupport.open("fentry")) {
      assertThat(obj.program("on_openat2").autoload()).isTrue();
      obj.program("on_openat2").setAutoload(false);
      obj.load();
      assertThat(obj.program("on_openat2").fd()).isEqualTo(-1);
      assertThat(obj.program("on_openat").fd()).isPositive();
      assertThat(obj.program("on_openat").attach().isClosed()).isFalse();
      assertThatThrownBy(() -> obj.program("on_openat").setAutoload(true))
          .isInstanceOf(IllegalStateException.class);
    }
  }

  @Test
  void closeDetachesEveryLinkAndIsIdempotent() {
    BpfObject obj = TestSupport.open("raw_tp");
    obj.setConstant("target_tgid", pid());
    obj.load();
    BpfLink raw = obj.program("on_raw_sys_enter").attachRawTracepoint("sys_enter");
    BpfLink btf = obj.program("on_btf_sys_enter").attach();
    obj.close();
    assertThat(raw.isClosed()).isTrue();
    assertThat(btf.isClosed()).isTrue();
    assertThat(obj.isClosed()).isTrue();
    obj.close();
    raw.close();
    assertThatThrownBy(() -> obj.map("hits").lookup(TestSupport.u32(0)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("closed");
    assertThatThrownBy(obj::btf).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void aBrokenElfIsABpfException() {
    assertThatThrownBy(() -> BpfObject.open("junk", "not an ELF file".getBytes()))
        .isInstanceOf(BpfException.class)
        .hasMessageContaining("open of BPF object 'junk'")
        .satisfies(e -> assertThat(((BpfException) e).errno()).isPositive());
  }

  @Test
  void btfIsTheObjectsOwn() {
    try (BpfObject obj = TestSupport.open("ringbuf_events")) {
      assertThat(obj.btf()).isSameAs(obj.btf());
      assertThat(obj.btf().struct("test_event")).isPresent();
    }
  }
}
