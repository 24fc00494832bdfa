package io.gadgetexporter.bpf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gadgetexporter.bpf.BtfField.Kind;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class BtfTest {
  @BeforeAll
  static void root() {
    TestSupport.requireRoot();
  }

  @Test
  void describesTheTestEventStruct() {
    try (BpfObject obj = TestSupport.open("ringbuf_events")) {
      BtfStruct s = obj.btf().struct("test_event").orElseThrow();
      assertThat(s.name()).isEqualTo("test_event");
      assertThat(s.size()).isEqualTo(64);
      assertThat(s.fields())
          .extracting(BtfField::name)
          .containsExactly(
              "timestamp",
              "seq",
              "pid",
              "tid",
              "comm",
              "negative",
              "cpu",
              "kind",
              "odd",
              "bytes",
              "low",
              "high",
              "qualified");

      BtfField ts = s.field("timestamp").orElseThrow();
      assertThat(ts)
          .isEqualTo(
              new BtfField(
                  "timestamp",
                  0,
                  8,
                  Kind.INT,
                  "test_timestamp",
                  false,
                  null,
                  0,
                  0,
                  "unsigned long long",
                  0,
                  0,
                  null));
      assertThat(s.field("seq").orElseThrow().typedefName()).isEqualTo("__u64");

      BtfField pid = s.field("pid").orElseThrow();
      assertThat(pid.offset()).isEqualTo(16);
      assertThat(pid.size()).isEqualTo(4);
      assertThat(pid.typedefName()).isEqualTo("test_pid");
      // declared through typedef test_pid -> __u32: the outermost one counts
      assertThat(s.field("tid").orElseThrow().typedefName()).isEqualTo("test_tid");

      BtfField comm = s.field("comm").orElseThrow();
      assertThat(comm.kind()).isEqualTo(Kind.ARRAY);
      assertThat(comm.typedefName()).isEqualTo("test_comm");
      assertThat(comm.elementKind()).isEqualTo(Kind.CHAR);
      assertThat(comm.elementSize()).isEqualTo(1);
      assertThat(comm.elementCount()).isEqualTo(16);
      assertThat(comm.size()).isEqualTo(16);
      assertThat(comm.offset()).isEqualTo(24);
      assertThat(comm.isCharArray()).isTrue();
      assertThat(comm.elementTypedefName()).isNull();

      BtfField negative = s.field("negative").orElseThrow();
      assertThat(negative.kind()).isEqualTo(Kind.INT);
      assertThat(negative.signed()).isTrue();
      assertThat(negative.offset()).isEqualTo(40);

      BtfField kind = s.field("kind").orElseThrow();
      assertThat(kind.kind()).isEqualTo(Kind.ENUM);
      assertThat(kind.size()).isEqualTo(4);
      assertThat(kind.typeName()).isEqualTo("test_kind");
      assertThat(kind.typedefName()).isNull();

      BtfField odd = s.field("odd").orElseThrow();
      assertThat(odd.kind()).isEqualTo(Kind.BOOL);
      assertThat(odd.isBool()).isTrue();
      assertThat(odd.size()).isEqualTo(1);
      assertThat(odd.offset()).isEqualTo(52);

      BtfField bytes = s.field("bytes").orElseThrow();
      assertThat(bytes.kind()).isEqualTo(Kind.ARRAY);
      assertThat(bytes.elementKind()).isEqualTo(Kind.INT); // __u8 is bytes, not text
      assertThat(bytes.elementCount()).isEqualTo(3);
      assertThat(bytes.typeName()).isEqualTo("unsigned char");
      assertThat(bytes.isCharArray()).isFalse();

      BtfField low = s.field("low").orElseThrow();
      assertThat(low.isBitfield()).isTrue();
      assertThat(low.bitOffset()).isEqualTo(448);
      assertThat(low.bitSize()).isEqualTo(3);
      assertThat(low.offset()).isEqualTo(56);
      BtfField high = s.field("high").orElseThrow();
      assertThat(high.bitOffset()).isEqualTo(451);
      assertThat(high.bitSize()).isEqualTo(5);

      BtfField qualified = s.field("qualified").orElseThrow();
      assertThat(qualified.kind()).isEqualTo(Kind.INT);
      assertThat(qualified.size()).isEqualTo(2);
      assertThat(qualified.offset()).isEqualTo(58);
      assertThat(qualified.typedefName()).isEqualTo("__u16"); // volatile peeled first
      assertThat(qualified.isBitfield()).isFalse();
    }
  }

  @Test
  void resolvesEveryKind() {
    try (BpfObject obj = TestSupport.open("ringbuf_events")) {
      BtfStruct s = obj.btf().struct("test_kinds").orElseThrow();
      BtfField q = s.field("qualified_int").orElseThrow();
      assertThat(q.kind()).isEqualTo(Kind.INT);
      assertThat(q.signed()).isTrue();
      assertThat(q.typedefName()).isNull();
      assertThat(q.typeName()).isEqualTo("int");
      assertThat(s.field("pointer").orElseThrow().kind()).isEqualTo(Kind.POINTER);
      assertThat(s.field("pointer").orElseThrow().size()).isEqualTo(8);
      BtfField nested = s.field("nested").orElseThrow();
      assertThat(nested.kind()).isEqualTo(Kind.STRUCT);
      assertThat(nested.typeName()).isEqualTo("test_nested");
      assertThat(nested.size()).isEqualTo(8);
      assertThat(obj.btf().struct(nested.typeName()).orElseThrow().fields()).hasSize(2);
      assertThat(s.field("named_union").orElseThrow().kind()).isEqualTo(Kind.UNION);
      BtfField matrix = s.field("matrix").orElseThrow();
      assertThat(matrix.kind()).isEqualTo(Kind.ARRAY);
      assertThat(matrix.elementKind()).isEqualTo(Kind.ARRAY);
      assertThat(matrix.elementCount()).isEqualTo(2);
      assertThat(matrix.elementSize()).isEqualTo(12);
      assertThat(matrix.size()).isEqualTo(24);
      assertThat(s.field("schar").orElseThrow().kind()).isEqualTo(Kind.INT);
      assertThat(s.field("schar").orElseThrow().signed()).isTrue();
      assertThat(s.field("uchar").orElseThrow().kind()).isEqualTo(Kind.INT);
      assertThat(s.field("uchar").orElseThrow().signed()).isFalse();
      assertThat(s.field("plain_char").orElseThrow().kind()).isEqualTo(Kind.CHAR);
      assertThat(s.field("llong").orElseThrow().size()).isEqualTo(8);
      BtfField pids = s.field("pids").orElseThrow();
      assertThat(pids.kind()).isEqualTo(Kind.ARRAY);
      assertThat(pids.typedefName()).isNull();
      assertThat(pids.elementTypedefName()).isEqualTo("test_pid");
      assertThat(pids.elementKind()).isEqualTo(Kind.INT);
      assertThat(pids.elementCount()).isEqualTo(2);
      BtfField anonymous = s.fields().get(s.fields().size() - 1);
      assertThat(anonymous.name()).isEmpty();
      assertThat(anonymous.kind()).isEqualTo(Kind.UNION);
      assertThat(anonymous.size()).isEqualTo(8);
    }
  }

  @Test
  void unknownNamesAreEmpty() {
    try (BpfObject obj = TestSupport.open("ringbuf_events")) {
      assertThat(obj.btf().struct("no_such_struct")).isEmpty();
      assertThat(obj.btf().struct("test_pid")).as("a typedef of an int").isEmpty();
    }
  }

  @Test
  void readsTheKernelsOwnTypes() {
    try (Btf kernel = Btf.vmlinux()) {
      BtfStruct task = kernel.struct("task_struct").orElseThrow();
      BtfField pid = task.field("pid").orElseThrow();
      assertThat(pid.typedefName()).isEqualTo("pid_t");
      assertThat(pid.kind()).isEqualTo(Kind.INT);
      assertThat(pid.signed()).isTrue();
      assertThat(pid.size()).isEqualTo(4);
      BtfField comm = task.field("comm").orElseThrow();
      assertThat(comm.isCharArray()).isTrue();
      assertThat(comm.elementCount()).isEqualTo(16);
      assertThat(task.fields()).anyMatch(BtfField::isBitfield);

      // A typedef'd anonymous struct is found by the typedef's name.
      BtfStruct atomic = kernel.struct("atomic_t").orElseThrow();
      assertThat(atomic.name()).isEqualTo("atomic_t");
      assertThat(atomic.fields()).extracting(BtfField::name).containsExactly("counter");
      kernel.close();
      assertThatThrownBy(() -> kernel.struct("task_struct"))
          .isInstanceOf(IllegalStateException.class);
    }
  }

  @Test
  void readsTheKernelsEnums() {
    try (Btf kernel = Btf.vmlinux()) {
      // A UAPI enum: its values are fixed.
      Map<Long, String> helpers = kernel.enumValues("bpf_func_id").orElseThrow();
      assertThat(helpers)
          .containsEntry(0L, "BPF_FUNC_unspec")
          .containsEntry(1L, "BPF_FUNC_map_lookup_elem");
      // One whose values move between versions: what the drop-reason names are read for.
      Map<Long, String> reasons = kernel.enumValues("skb_drop_reason").orElseThrow();
      assertThat(reasons.values())
          .contains("SKB_DROP_REASON_NOT_SPECIFIED", "SKB_DROP_REASON_NETFILTER_DROP");
      assertThat(kernel.enumValues("no_such_enum")).isEmpty();
      assertThat(kernel.enumValues("task_struct")).as("a struct, not an enum").isEmpty();
    }
  }
}
