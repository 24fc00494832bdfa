package io.gadgetexporter.gadget;

import static org.assertj.core.api.Assertions.assertThat;

import io.gadgetexporter.bpf.Btf;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Human forms of raw values. */
class FormatsTest {
  @Test
  void errnoNames() {
    assertThat(Errno.name(2)).isEqualTo("ENOENT");
    assertThat(Errno.name(13)).isEqualTo("EACCES");
    assertThat(Errno.name(133)).isEqualTo("EHWPOISON");
    assertThat(Errno.name(512)).isEqualTo("ERESTARTSYS");
    assertThat(Errno.name(4000)).isEqualTo("errno 4000");
  }

  @Test
  void openFlags() {
    assertThat(OpenFlags.format(0)).isEqualTo("O_RDONLY");
    assertThat(OpenFlags.format(01 | 0100 | 01000)).isEqualTo("O_WRONLY|O_CREAT|O_TRUNC");
    assertThat(OpenFlags.format(02 | 02000000)).isEqualTo("O_RDWR|O_CLOEXEC");
    assertThat(OpenFlags.format(04010000)).isEqualTo("O_RDONLY|O_SYNC");
    assertThat(OpenFlags.format(010000)).isEqualTo("O_RDONLY|O_DSYNC");
    assertThat(OpenFlags.format(0x80000000L)).isEqualTo("O_RDONLY|020000000000");
  }

  @Test
  void endpoints() {
    assertThat(endpoint(4, 80, 10, 0, 0, 1)).isEqualTo("10.0.0.1:80");
    assertThat(endpoint(6, 443, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1))
        .isEqualTo("[::1]:443");
    assertThat(endpoint(6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)).isEqualTo("[::]:0");
    assertThat(endpoint(6, 65535, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1))
        .as("the longest zero run is compressed, lower-case hex")
        .isEqualTo("[2001:db8::1:0:0:1]:65535");
    assertThat(endpoint(6, 1, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 0, 0, 1, 0, 1, 0, 1))
        .as("a single zero group is not compressed")
        .isEqualTo("[2001:db8:0:1:0:1:1:1]:1");
    assertThat(endpoint(6, 22, 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
        .isEqualTo("[fe80::]:22");
    assertThat(endpoint(6, 8080, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1))
        .as("IPv4-mapped, RFC 5952's mixed form")
        .isEqualTo("[::ffff:127.0.0.1]:8080");
    assertThat(endpoint(0, 0)).as("no endpoint").isEmpty();
  }

  /** A gadget_l4endpoint in native byte order: version, port, then the address bytes. */
  private static String endpoint(int version, int port, int... address) {
    ByteBuffer b = ByteBuffer.allocate(L4Endpoint.SIZE + 4).order(ByteOrder.nativeOrder());
    for (int i = 0; i < address.length; i++) {
      b.put(2 + i, (byte) address[i]);
    }
    b.putShort(2 + 16, (short) port);
    b.put(2 + 18, (byte) version);
    return L4Endpoint.format(b, 2);
  }

  @Test
  void tcpStatesAndFlags() {
    assertThat(TcpState.name(1)).isEqualTo("ESTABLISHED");
    assertThat(TcpState.name(10)).isEqualTo("LISTEN");
    assertThat(TcpState.name(12)).isEqualTo("NEW_SYN_RECV");
    assertThat(TcpState.name(0)).isEmpty();
    assertThat(TcpState.name(99)).isEqualTo("state 99");
    assertThat(TcpFlags.format(0x12)).isEqualTo("SYN|ACK");
    assertThat(TcpFlags.format(0x18)).isEqualTo("PSH|ACK");
    assertThat(TcpFlags.format(0x1c4)).isEqualTo("RST|ECE|CWR|AE");
    assertThat(TcpFlags.format(0)).isEmpty();
    assertThat(TcpFlags.format(0x1001)).isEqualTo("FIN|0x1000");
  }

  @Test
  void protocolsAndFamilies() {
    assertThat(IpProtocol.name(6)).isEqualTo("TCP");
    assertThat(IpProtocol.name(17)).isEqualTo("UDP");
    assertThat(IpProtocol.name(58)).isEqualTo("ICMPV6");
    assertThat(IpProtocol.name(262)).isEqualTo("MPTCP");
    assertThat(IpProtocol.name(99)).isEqualTo("protocol 99");
    assertThat(SockFamily.name(2)).isEqualTo("AF_INET");
    assertThat(SockFamily.name(10)).isEqualTo("AF_INET6");
    assertThat(SockFamily.name(1)).isEqualTo("AF_UNIX");
    assertThat(SockFamily.name(99)).isEqualTo("family 99");
  }

  @Test
  void dropReasonsComeFromTheKernelEnum() {
    Map<Long, String> names =
        SkbDropReason.names(
            Map.of(2L, "SKB_DROP_REASON_NOT_SPECIFIED", 12L, "SKB_DROP_REASON_NETFILTER_DROP"));
    assertThat(SkbDropReason.name(12, names)).isEqualTo("NETFILTER_DROP");
    assertThat(SkbDropReason.name(2, names)).isEqualTo("NOT_SPECIFIED");
    assertThat(SkbDropReason.name(7, names)).isEqualTo("reason 7");
    // The running kernel's own table (this machine has BTF): its NETFILTER_DROP, by its value.
    try (Btf kernel = Btf.vmlinux()) {
      long netfilterDrop =
          kernel.enumValues("skb_drop_reason").orElseThrow().entrySet().stream()
              .filter(e -> e.getValue().equals("SKB_DROP_REASON_NETFILTER_DROP"))
              .findFirst()
              .orElseThrow()
              .getKey();
      assertThat(SkbDropReason.name(netfilterDrop)).isEqualTo("NETFILTER_DROP");
    }
  }

  @Test
  void syscallNamesFollowTheArchitecture() {
    String[] x86 = SyscallNames.load(SyscallNames.tableFor("amd64"));
    assertThat(x86[0]).isEqualTo("read");
    assertThat(x86[59]).isEqualTo("execve");
    assertThat(x86[257]).isEqualTo("openat");
    assertThat(x86[435]).isEqualTo("clone3");
    assertThat(x86[462]).isEqualTo("mseal"); // newer than the headers the table was made from
    String[] arm64 = SyscallNames.load(SyscallNames.tableFor("aarch64"));
    assertThat(arm64[56]).isEqualTo("openat");
    assertThat(arm64[63]).isEqualTo("read");
    assertThat(arm64[25]).isEqualTo("fcntl"); // not fcntl64: the 64-bit names
    assertThat(arm64[221]).isEqualTo("execve");
    assertThat(arm64).doesNotContain("open"); // arm64 has only openat
    assertThat(SyscallNames.name(100_000)).isEqualTo("100000");
    assertThat(SyscallNames.name(-1)).isEqualTo("-1");
  }

  @Test
  void fileTypes() {
    assertThat(FileTypes.name(0100644)).isEqualTo("regular");
    assertThat(FileTypes.name(0140777)).isEqualTo("socket");
    assertThat(FileTypes.name(0010600)).isEqualTo("fifo");
    assertThat(FileTypes.name(0020620)).isEqualTo("char_device");
    assertThat(FileTypes.name(0040755)).isEqualTo("directory");
    assertThat(FileTypes.name(0)).isEqualTo("00");
  }

  @Test
  void signalNames() {
    assertThat(Signals.name(0)).isEmpty();
    assertThat(Signals.name(9)).isEqualTo("SIGKILL");
    assertThat(Signals.name(15)).isEqualTo("SIGTERM");
    assertThat(Signals.name(31)).isEqualTo("SIGSYS");
    assertThat(Signals.name(32)).isEqualTo("SIGRTMIN");
    assertThat(Signals.name(34)).isEqualTo("SIGRT_2");
    assertThat(Signals.name(64)).isEqualTo("SIGRT_32");
    assertThat(Signals.name(65)).isEqualTo("signal 65");
  }

  @Test
  void signalCodesAndResults() {
    assertThat(Signals.code(0)).isEqualTo("SI_USER");
    assertThat(Signals.code(0x80)).isEqualTo("SI_KERNEL");
    assertThat(Signals.code(-6)).isEqualTo("SI_TKILL");
    assertThat(Signals.code(-60)).isEqualTo("SI_ASYNCNL");
    assertThat(Signals.code(1)).isEqualTo("1"); // SEGV_MAPERR or CLD_EXITED: depends on the signal
    assertThat(Signals.result(0)).isEqualTo("delivered");
    assertThat(Signals.result(2)).isEqualTo("already_pending");
    assertThat(Signals.result(4)).isEqualTo("lose_info");
    assertThat(Signals.result(5)).isEqualTo("result 5");
    assertThat(Signals.result(-3)).isEqualTo("ESRCH");
    assertThat(Signals.result(-1)).isEqualTo("EPERM");
  }

  @Test
  void mountFlags() {
    assertThat(MountFlags.mount(0)).isEmpty();
    assertThat(MountFlags.mount(1 | 2 | 4)).isEqualTo("MS_RDONLY|MS_NOSUID|MS_NODEV");
    assertThat(MountFlags.mount(4096 | 16384)).isEqualTo("MS_BIND|MS_REC");
    assertThat(MountFlags.mount(16384 | (1 << 18))).isEqualTo("MS_REC|MS_PRIVATE");
    assertThat(MountFlags.mount(0xC0ED0000L | 1)).isEqualTo("MS_MGC_VAL|MS_RDONLY");
    assertThat(MountFlags.mount(512 | (1L << 40))).isEqualTo("0x10000000200");
    assertThat(MountFlags.umount(0)).isEmpty();
    assertThat(MountFlags.umount(2 | 8)).isEqualTo("MNT_DETACH|UMOUNT_NOFOLLOW");
    assertThat(MountFlags.umount(1 | 32)).isEqualTo("MNT_FORCE|0x20");
  }

  @Test
  void processTypedefsDecodeThroughEventView() {
    GadgetSpec spec =
        GadgetSpec.parse(
            """
            name: demo
            description: Process and mount fields.
            event: event
            fields:
              sig: {}
              code: {}
              result: {}
              flags: {}
              uflags: {}
            """,
            "demo.yaml");
    EventSchema schema =
        EventSchema.of(
            new io.gadgetexporter.bpf.BtfStruct(
                "event",
                32,
                java.util.List.of(
                    BtfFields.scalar("sig", 0, 4, false, "gadget_signal"),
                    BtfFields.scalar("code", 4, 4, true, "gadget_signal_code"),
                    BtfFields.scalar("result", 8, 4, true, "gadget_signal_result"),
                    BtfFields.scalar("flags", 16, 8, false, "gadget_mount_flags"),
                    BtfFields.scalar("uflags", 24, 4, false, "gadget_umount_flags"))),
            spec);
    ByteBuffer b = ByteBuffer.allocate(32).order(ByteOrder.nativeOrder());
    b.putInt(0, 9).putInt(4, -6).putInt(8, -3).putLong(16, 1 | 4096).putInt(24, 2);
    EventView view = new EventView(schema, BootClock.fixed(0));
    assertThat(view.bind(b, 0, 32)).isTrue();

    EventField sig = schema.field("sig").orElseThrow();
    assertThat(sig.format()).isEqualTo(FieldFormat.SIGNAL);
    assertThat(view.value(sig)).isEqualTo(9L);
    assertThat(view.text(sig)).isEqualTo("SIGKILL");
    EventField code = schema.field("code").orElseThrow();
    assertThat(view.value(code)).isEqualTo(-6L);
    assertThat(view.text(code)).isEqualTo("SI_TKILL");
    EventField result = schema.field("result").orElseThrow();
    assertThat(view.value(result)).isEqualTo(-3L);
    assertThat(view.text(result)).isEqualTo("ESRCH");
    EventField flags = schema.field("flags").orElseThrow();
    assertThat(view.value(flags)).isEqualTo(4097L);
    assertThat(view.text(flags)).isEqualTo("MS_RDONLY|MS_BIND");
    assertThat(view.text(schema.field("uflags").orElseThrow())).isEqualTo("MNT_DETACH");
  }

  @Test
  void log2Histograms() {
    long[] slots = new long[27];
    assertThat(Log2Histogram.text(slots, "us")).isEmpty();
    slots[0] = 3;
    slots[4] = 50;
    slots[5] = 14;
    slots[26] = 2;
    assertThat(Log2Histogram.text(slots, "us"))
        .isEqualTo("0-1us:3 16-31us:50 32-63us:14 67108864+us:2");
    assertThat(Log2Histogram.text(new long[] {0, 1}, null)).isEqualTo("2+:1");
    assertThat(Log2Histogram.lowerBound(0)).isZero();
    assertThat(Log2Histogram.lowerBound(5)).isEqualTo(32);
    // Strictly inside its slot: a power-of-two bucket bound never splits it.
    for (int i = 1; i < 27; i++) {
      assertThat(Log2Histogram.representative(i))
          .isGreaterThan(Log2Histogram.lowerBound(i))
          .isLessThan(Log2Histogram.lowerBound(i + 1));
    }
    assertThat(Log2Histogram.representative(0)).isEqualTo(1);
  }

  @Test
  void blockDevicesAndOperations() {
    assertThat(BlockIo.device(7L << 20 | 3)).isEqualTo("7:3");
    assertThat(BlockIo.device(259L << 20 | 1048575)).isEqualTo("259:1048575");
    assertThat(BlockIo.op(0)).isEqualTo("read");
    assertThat(BlockIo.op(1)).isEqualTo("write");
    assertThat(BlockIo.op(2)).isEqualTo("flush");
    assertThat(BlockIo.op(3)).isEqualTo("discard");
    assertThat(BlockIo.op(13)).isEqualTo("drv_out");
    assertThat(BlockIo.op(255)).isEqualTo("other");
  }

  @Test
  void cpuLists() {
    assertThat(PerfSampling.parseCpuList("0-1\n")).containsExactly(0, 1);
    assertThat(PerfSampling.parseCpuList("0,2-4,7")).containsExactly(0, 2, 3, 4, 7);
    assertThat(PerfSampling.parseCpuList("5")).containsExactly(5);
  }
}
