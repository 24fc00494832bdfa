package io.gadgetexporter.bpf;

import static io.gadgetexporter.bpf.TestSupport.pid;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class BpfIteratorTest {
  @BeforeAll
  static void root() {
    TestSupport.requireRoot();
  }

  @Test
  void eachReadRunsTheIteratorAfresh() {
    try (BpfObject obj = TestSupport.open("iter_task")) {
      obj.load();
      BpfProgram p = obj.program("dump_task");
      assertThat(p.attachKind()).contains(AttachKind.ITERATOR);
      BpfIterator it = p.attachIterator();
      String first = it.readString();
      assertThat(first.lines()).contains(pid() + " java", "2 kthreadd");
      String second = it.readString();
      assertThat(second.lines()).contains(pid() + " java");
      assertThat(it.read()).isNotEmpty();
      it.close();
      assertThat(it.isClosed()).isTrue();
      assertThatThrownBy(it::read).isInstanceOf(IllegalStateException.class);
    }
  }

  @Test
  void closingTheObjectClosesTheIterator() {
    BpfIterator it;
    try (BpfObject obj = TestSupport.open("iter_task")) {
      obj.load();
      it = obj.program("dump_task").attachIterator();
    }
    assertThat(it.isClosed()).isTrue();
  }
}
